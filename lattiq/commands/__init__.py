"""The ``lattiq`` command's subcommands: argument parsing and the glue to the library.

One module per command group, each with ``register(subparsers)``: :mod:`.report`,
:mod:`.lattice`, :mod:`.codes`, :mod:`.bench`, :mod:`.tokenizer` (``train-tokenizer``,
``eval-tokenizer``), :mod:`.var` (``train-var``, ``sample``, ``eval-var``,
``fmnist-classifier``) and :mod:`.codec` (``compress``, ``decompress``, ``fit-unigram``);
:mod:`.common` holds what several of them share (help text generated from the config
dataclasses, the options of a training run).

These modules import only the standard library at the top, so that building the parser
(``lattiq --help``) costs no more than the interpreter; each handler imports the library it
calls when it runs, turns the parsed arguments into that library's typed options, and
returns an exit code. Nothing in the library imports this package, except each training and
evaluation script's ``main(argv)``, the entry point of ``python -m`` / ``torchrun -m``,
which parses its arguments here.
"""
