"""Training: the loop's pieces and the two training scripts.

* :mod:`~lattiq.training.train_tokenizer` and :mod:`~lattiq.training.train_var`: the scripts
  (``lattiq train-tokenizer`` / ``train-var``; ``torchrun -m lattiq.training.train_tokenizer``),
  each reading top to bottom: config, distributed set-up, data, model, optimizer, loop;
* :mod:`~lattiq.training.ema`, :mod:`~lattiq.training.schedules`,
  :mod:`~lattiq.training.logs`: weight averages, learning-rate schedules, the metrics log
  and progress bar;
* :mod:`~lattiq.training.optim`: the optimizers (AdamW, Muon, Lion, Dion) and their
  parameter roles;
* :mod:`~lattiq.training.token_cache`: a dataset encoded once by a tokenizer, for the
  generator.

Configs, checkpoints, run directories and the process group come from :mod:`lattiq.runtime`.
"""
