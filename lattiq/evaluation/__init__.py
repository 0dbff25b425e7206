"""Evaluation: what a trained tokenizer or generator is measured with, and the scripts that
measure.

* :mod:`~lattiq.evaluation.eval_tokenizer`, :mod:`~lattiq.evaluation.eval_var`: the scripts
  (``lattiq eval-tokenizer`` / ``eval-var``); :mod:`~lattiq.evaluation.sample_images` writes
  a generator's samples to a folder (``lattiq sample``);
* :mod:`~lattiq.evaluation.metrics` (PSNR, SSIM, MS-SSIM, Fréchet distance) and
  :mod:`~lattiq.evaluation.health` (codebook health: usage, position share, shuffled-code
  PSNR), which training also logs;
* the feature networks the metrics are measured in: the FID Inception
  (:mod:`~lattiq.evaluation.inception`) and the Fashion-MNIST classifier
  (:mod:`~lattiq.evaluation.fmnist_classifier`);
* :mod:`~lattiq.evaluation.figures`: labelled image grids and training curves.
"""
