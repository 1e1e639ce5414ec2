"""One import or compare, end to end, in its own process (so its peak memory is its own):
log in, POST the file to the page an operator uses (the job runs to the end inside the
request: JOBS_MODE=immediate), check the outcome. Prints JSON: seconds, CPU seconds, this
process's peak RSS (MB), its RSS before the upload (MB) and the job's result.

The peak is VmHWM of /proc/self/status — the high-water mark of this process's own memory since
it was exec'd. Not ru_maxrss: the parent (bench/run.py, holding a generated city) starts this
process with vfork + exec, and Linux carries the parent's high-water mark into the child's
ru_maxrss, so every child printed at least the parent's peak.

    python -m bench.import_run URL import|by_code|compare FILE USERNAME PASSWORD
"""

import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = {"import": ("/members/import", {"category": "企业外入会"}),
         "by_code": ("/members/import/by-code", {}),
         "compare": ("/members/sync", {})}


def memory_mb(field: str) -> float:
    """VmHWM (peak) or VmRSS (now) of this process, MB; ru_maxrss where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB; may hold the parent's peak


def cpu_seconds() -> float:
    """CPU time of this process and its ended children (user + system)."""
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                  resource.getrusage(resource.RUSAGE_CHILDREN)))


def main(url: str, kind: str, path: str, username: str, password: str) -> None:
    import models
    from app import create_app
    from models import db
    from models.jobs import Job
    models.connect(url)
    app = create_app({"DATABASE_URL": url, "LOGIN_CAPTCHA": False, "WTF_CSRF_ENABLED": False,
                      "JOBS_MODE": "immediate", "SECRET_KEY": "bench", "LOGIN_FAIL_DELAY": 0,
                      "MAX_CONTENT_LENGTH": 200 * 1024 * 1024})
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": password}).status_code == 302
    data = Path(path).read_bytes()
    page, fields = PAGES[kind]
    before = memory_mb("VmRSS")
    cpu = cpu_seconds()
    start = time.perf_counter()
    response = client.post(page, data={**fields, "file": (__import__("io").BytesIO(data), Path(path).name)},
                           content_type="multipart/form-data")
    seconds = time.perf_counter() - start
    cpu = cpu_seconds() - cpu
    assert response.status_code in (200, 302, 303), response.status_code
    db.connect(reuse_if_open=True)
    job = Job.select().order_by(Job.id.desc()).first()
    assert job is not None and job.status == "已完成", (job and job.status, job and job.errors)
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_mb": memory_mb("VmHWM"), "before_mb": before,
                      "result": job.result_data, "job": job.id}, ensure_ascii=False))


if __name__ == "__main__":
    main(*sys.argv[1:6])
