"""How a training run starts: the sources of its config and how far it goes.

What the command line gives a training script besides the config keys: the preset, a config
file and ``--set`` overrides (resolved by :func:`lattiq.runtime.resume.run_config`), the run
directory, and the run's controls (resume, overwrite, stop early).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RunOptions", "VARRunOptions"]


@dataclass
class RunOptions:
    """Options of a training run (``lattiq train-tokenizer`` / ``train-var``).

    The config is the preset's (``"tiny"`` when ``preset`` is ``None``; on ``resume`` with no
    preset, the config saved in the run directory), then the file ``config`` (YAML or JSON,
    partial is fine), then each ``overrides`` entry (``"key.sub=value"``, the value read as
    YAML), then ``out`` as ``out_dir``.

    Attributes
    ----------
    resume : bool
        Continue the run in the run directory from its latest checkpoint, exactly.
    overwrite : bool
        Delete what a run already in the run directory wrote and start again (without it,
        such a directory is refused).
    stop_at : int or None
        Save a checkpoint and stop once this many steps are done (resume later).
    print_config : bool
        Print the resolved config as JSON and return without training.
    progress : bool
        A progress bar on stderr (plain lines when stderr is not a terminal).
    """

    preset: str | None = None
    config: str | None = None
    overrides: list[str] = field(default_factory=list)
    out: str | None = None
    resume: bool = False
    overwrite: bool = False
    stop_at: int | None = None
    print_config: bool = False
    progress: bool = True


@dataclass
class VARRunOptions(RunOptions):
    """:class:`~lattiq.training.options.RunOptions` and the tokenizer to train on.

    ``tokenizer`` (a multi-scale tokenizer run directory) replaces ``data.tokenizer``; with
    ``match_tokenizer`` the generator takes ``model.code``, ``code_dim``, ``codebook_size``
    and ``scales`` from the tokenizer (otherwise a tokenizer that differs from the config is
    refused).
    """

    tokenizer: str | None = None
    match_tokenizer: bool = False
