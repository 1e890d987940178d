"""The figure plumbing every stage repeats: matplotlib headless with a font that draws Hangul, and PNGs
written atomically (outputs/figures/ by default). The figures themselves live with their stage."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from lib import config
from lib.fileio import atomic_path


def use_korean_font() -> str | None:
    """Make matplotlib draw Hangul: NanumGothic shipped by koreanize-matplotlib, else a system CJK font.

    The package is used only as a font carrier (its import-time hook needs distutils, gone in 3.12).
    """
    import matplotlib
    from matplotlib import font_manager

    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec and spec.origin:
        for ttf in sorted((Path(spec.origin).parent / "fonts").glob("*.ttf")):
            font_manager.fontManager.addfont(str(ttf))
    have = {f.name for f in font_manager.fontManager.ttflist}
    for name in ("NanumGothic", "Noto Sans CJK KR", "Malgun Gothic", "AppleGothic", "NanumBarunGothic"):
        if name in have:
            matplotlib.rcParams["font.family"] = name
            matplotlib.rcParams["axes.unicode_minus"] = False
            return name
    return None


def subplots(*args, **kw):
    """plt.subplots on the headless backend, Hangul-capable font set: (fig, axes)."""
    import matplotlib

    matplotlib.use("Agg", force=False)  # no display on a server; notebooks still show the returned figure
    import matplotlib.pyplot as plt

    use_korean_font()
    return plt.subplots(*args, **kw)


def save(fig, name: str | Path, out_dir: str | Path | None = None, *, close: bool = True) -> Path:
    """Write `fig` as PNG to out_dir/name (default outputs/figures/) atomically; returns the path.
    An absolute `name` is written where it says."""
    import matplotlib.pyplot as plt

    path = Path(name) if Path(name).is_absolute() else Path(out_dir or config.figures()) / name
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    if close:
        plt.close(fig)
    return path
