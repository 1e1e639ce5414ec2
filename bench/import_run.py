"""One import or compare, end to end, in its own process (so its peak memory is its own):
log in, POST the file to the page an operator uses (the job runs to the end inside the
request: JOBS_MODE=immediate), check the outcome. Prints JSON: seconds, peak RSS (MB), the
RSS before the upload (MB), the peak RSS of its largest child process (the xlsx reader process;
it counts the pages it shares with its parent after the fork too) and the job's result.

    python -m bench.import_run URL import|compare FILE USERNAME PASSWORD
"""

import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = {"import": ("/members/import", {"category": "企业外入会"}),
         "compare": ("/members/sync", {})}


def rss_mb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: KiB


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
    before = rss_mb()
    start = time.perf_counter()
    response = client.post(page, data={**fields, "file": (__import__("io").BytesIO(data), Path(path).name)},
                           content_type="multipart/form-data")
    seconds = time.perf_counter() - start
    assert response.status_code in (200, 302, 303), response.status_code
    db.connect(reuse_if_open=True)
    job = Job.select().order_by(Job.id.desc()).first()
    assert job is not None and job.status == "已完成", (job and job.status, job and job.errors)
    print(json.dumps({"seconds": seconds, "peak_mb": rss_mb(), "before_mb": before,
                      "reader_peak_mb": rss_mb(resource.RUSAGE_CHILDREN),
                      "result": job.result_data}, ensure_ascii=False))


if __name__ == "__main__":
    main(*sys.argv[1:6])
