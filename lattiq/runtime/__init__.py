"""What a run reads, writes and where it runs: the pieces that training, evaluation, the
models' own loaders and the codec share.

* :mod:`~lattiq.runtime.config`: config dataclasses <-> dicts and YAML / JSON files, ``--set``
  overrides, readable differences;
* :mod:`~lattiq.runtime.distributed`: single process or one rank of a ``torchrun`` job (gloo on
  CPU, nccl on GPU), device choice, averaging over ranks;
* :mod:`~lattiq.runtime.rng`: seeds and RNG state;
* :mod:`~lattiq.runtime.checkpoints`: atomic checkpoints (safetensors + JSON, a manifest of
  SHA-256 hashes, no pickle), found and read back checked;
* :mod:`~lattiq.runtime.state_io`: optimizer / scheduler / RNG state as tensors + JSON;
* :mod:`~lattiq.runtime.resume`: the config a resumed or extended run continues with;
* :mod:`~lattiq.runtime.directory`: run directories (one writer at a time, refusals, clean
  resumes) and checks that an output can be written.

Nothing here imports the rest of lattiq (models, training, evaluation), so everything
above can use it (``docs/architecture.md``).
"""
