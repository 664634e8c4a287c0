"""noordstats: CBS statistics behind the claims of the Noord-Nederland position paper."""

__version__ = "0.1.0"

from noordstats.load import load_table  # noqa: E402

__all__ = ["load_table", "__version__"]
