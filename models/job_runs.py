"""The log of a staged import's runs (models/jobs.JobContext: `stage`, `applied`; `Job.resumed_note`).

Each chunk's checkpoint carries `runs`: one entry per run that staged chunks — its attempt, the
chunks [first, next) and the file rows [first, last] it checked and staged. Written in the same
transaction as the chunks, so it says what each run really did: a run that resumed an interrupted
one starts where that one stopped, and no chunk is in two entries. The log goes into the result,
and the result pages say how an interrupted import went on. Below models/jobs.py.
"""


def with_chunk(checkpoint: dict, index: int | None, attempt: int, seq: int, part: list) -> tuple[list, int]:
    """The checkpoint's log (a copy) with chunk `seq` (its checked rows `part`, dicts with their
    file "row") staged by the run at `index` (None: this run's first chunk, a new entry); (the log,
    this run's index)."""
    runs = [{**r, "chunks": list(r["chunks"]), "rows": list(r.get("rows", []))} for r in checkpoint.get("runs", [])]
    numbers = [r["row"] for r in part if isinstance(r, dict) and "row" in r]
    if index is None:
        rows = [numbers[0], numbers[-1]] if numbers else []
        runs.append({"attempt": attempt, "chunks": [seq, seq + 1], "rows": rows})
        return runs, len(runs) - 1
    run = runs[index]
    run["chunks"][1] = seq + 1
    if numbers:
        run["rows"] = [run["rows"][0] if run["rows"] else numbers[0], numbers[-1]]
    return runs, index


def at_apply(checkpoint: dict, index: int | None, attempt: int, resumed_at: int) -> list:
    """The checkpoint's log as the rows are applied: a run that resumed with every chunk already
    staged (it checked none again) gets an entry of no chunks."""
    runs = list(checkpoint.get("runs", []))
    if index is None and resumed_at:
        runs.append({"attempt": attempt, "chunks": [resumed_at, resumed_at], "rows": []})
    return runs


def note(runs: list) -> str:
    """How an interrupted import went on from its checkpoint, or "" for one that ran once."""
    if len(runs) < 2:
        return ""
    parts = []
    for i, run in enumerate(runs):
        label = f"第{run.get('attempt') or i + 1}次运行"
        rows = run.get("rows") or []
        if not rows:
            text = f"{label}时全部行已校验，直接导入"
        elif i == 0:
            text = f"{label}校验了第{rows[0]}–{rows[1]}行"
        else:
            text = f"{label}从第{rows[0]}行继续，校验至第{rows[1]}行"
        parts.append(text + ("后中断" if i < len(runs) - 1 and rows else ""))
    return "任务曾中断，已从断点继续：" + "；".join(parts) + "（已校验的行不再重复校验，每行只导入一次）"
