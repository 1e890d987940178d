"""Run the numbered notebooks headlessly with papermill: `python -m lib.pipeline --profile sample-cpu`.

Notebooks live as jupytext `py:percent` files (clean diffs); each run converts one to .ipynb,
injects the parameters and writes the executed copy to outputs/notebooks/. A GPU profile (`device: cuda`)
is checked by lib.doctor first and stops there, with the fixes, if this machine cannot run it.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from lib import config, doctor

NOTEBOOKS = config.ROOT / "notebooks"


def notebooks(only: list[str] | None = None) -> list[Path]:
    found = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
    if only:
        found = [p for p in found if p.name[:2] in only]
    return found


def declared(notebook) -> set[str]:
    """The names the notebook's `parameters` cell declares (papermill warns about any other)."""
    cell = next((c for c in notebook.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        return set()
    return {line.split("=", 1)[0].strip() for line in cell.source.splitlines()
            if "=" in line and not line.lstrip().startswith("#")}


def run_notebook(source: Path, parameters: dict, out_dir: Path | None = None) -> Path:
    """Execute one jupytext notebook with the parameters it declares; the executed copy's path."""
    import jupytext
    import nbformat
    import papermill

    out_dir = out_dir or config.notebooks_out()
    out_dir.mkdir(parents=True, exist_ok=True)
    # the kernel runs in notebooks/ and inherits this environment: make `import lib` work there
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(config.ROOT), os.environ.get("PYTHONPATH")) if p)
    staged = out_dir / f".{source.stem}.input.ipynb"
    notebook = jupytext.read(source)
    parameters = {k: v for k, v in parameters.items() if k in declared(notebook)}
    nbformat.write(notebook, staged)
    out = out_dir / f"{source.stem}.ipynb"
    try:
        papermill.execute_notebook(
            str(staged), str(out), parameters=parameters, kernel_name="python3",
            cwd=str(NOTEBOOKS), progress_bar=True, log_output=False,
        )
    finally:
        staged.unlink(missing_ok=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="sample-cpu", help="profile name in configs/ or a YAML path")
    ap.add_argument("--chat", nargs="*", help="export file(s); default: the profile's `chat`")
    ap.add_argument("--me", help="your name as it appears in the export; default: the profile's `me`")
    ap.add_argument("--only", help="comma-separated notebook numbers, e.g. 01,02")
    ap.add_argument("--no-doctor", action="store_true", help="skip lib.doctor's checks before a GPU profile")
    args = ap.parse_args(argv)

    profile = config.load_profile(args.profile)  # fail early on a typo
    if profile.get("device") == "cuda" and not args.no_doctor:
        print(f"lib.doctor: can this machine run profile {profile['name']}?")
        checks = doctor.run(profile, chat=args.chat, me=args.me)
        for c in checks:
            print(f"  {c}", flush=True)
        if any(c.level == "FIX" for c in checks):
            print("\nstopped before the notebooks: fix the FIX lines above, then rerun "
                  f"(`python -m lib.doctor --profile {args.profile}` checks again)", file=sys.stderr)
            return 1
    params: dict = {"profile": args.profile}
    if args.chat:
        params["chat"] = [str(config.resolve(c)) for c in args.chat]
    if args.me:
        params["me"] = args.me
    todo = notebooks(args.only.split(",") if args.only else None)
    if not todo:
        print(f"no notebooks matched {args.only!r} in {NOTEBOOKS}", file=sys.stderr)
        return 2
    print(f"profile {profile['name']}: running {', '.join(p.stem for p in todo)}")
    for nb in todo:
        t0 = time.perf_counter()
        out = run_notebook(nb, params)
        print(f"  {nb.stem}: {time.perf_counter() - t0:.0f}s -> {out.relative_to(config.ROOT)}")
    print(f"\nresults: executed notebooks in {config.notebooks_out()}, figures in {config.figures()},"
          f" dataset in {config.dataset_dir(profile)}, adapter in {config.adapters() / 'latest'},"
          f" report in {config.report()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
