"""Sub-commands of the ``noordstats`` CLI, one module each (see ``noordstats.cli``)."""
