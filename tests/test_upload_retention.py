"""Uploaded files (rosters with full ID numbers) are deleted UPLOAD_RETENTION_DAYS after their job
ended, by the hourly sweep; a running job's upload and a recent one are kept, and the job's pages
say the file was removed instead of failing."""

import json
import secrets
from datetime import timedelta

from models.base import now
from models.jobs import DONE, FAILED, RUNNING, Job, JobChunk, deadline_sweep
from models.storage import stored_file
from tests.helpers import soup


def job_with_upload(city, kind="member_import", status=DONE, ended_days_ago=None, sub="uploads"):
    org = city.orgs["grassroots1"]
    account = city.account("grassroots")
    name = f"upload-{secrets.token_hex(8)}.bin"
    path = stored_file(sub, name)
    path.write_bytes(b"\xe5\xa7\x93\xe5\x90\x8d,110101199003077777")
    ended = now() - timedelta(days=ended_days_ago) if ended_days_ago is not None else None
    job = Job.create(org=org, owner=account, kind=kind, title="批量导入会员", status=status,
                     params=json.dumps({"upload": name, "file_name": "会员名单.xlsx", "org": org.id,
                                        "account": account.id}),
                     result=json.dumps({"summary": "共1行：新增1人", "rows": 1, "added": 1}),
                     created_at=now() - timedelta(days=(ended_days_ago or 0) + 40), finished_at=ended)
    return job, path


def test_old_uploads_are_deleted_recent_and_running_ones_kept(app, city):
    old, old_path = job_with_upload(city, ended_days_ago=31)
    old_failed, failed_path = job_with_upload(city, kind="member_compare", status=FAILED, ended_days_ago=45,
                                              sub="jobs")
    JobChunk.create(job=old_failed, seq=0, data='[{"id_number": "110101199003077777"}]')
    recent, recent_path = job_with_upload(city, ended_days_ago=29)
    running, running_path = job_with_upload(city, status=RUNNING)  # started 40 days ago, still running

    result = deadline_sweep()

    assert sorted(result["purged"]) == sorted([old.id, old_failed.id])
    assert not old_path.exists() and not failed_path.exists()
    assert recent_path.exists() and running_path.exists()
    assert not JobChunk.select().where(JobChunk.job == old_failed.id).exists()  # staged rows too
    assert deadline_sweep()["purged"] == []  # idempotent: the next hour finds nothing new


def test_the_retention_is_configured(app, city):
    recent, recent_path = job_with_upload(city, ended_days_ago=8)
    with app.app_context():
        app.config["UPLOAD_RETENTION_DAYS"] = 7
        try:
            assert deadline_sweep()["purged"] == [recent.id]
        finally:
            app.config["UPLOAD_RETENTION_DAYS"] = 30
    assert not recent_path.exists()


def text(response):
    return soup(response).get_text(" ", strip=True)


def test_the_job_pages_say_the_upload_was_removed(app, city, as_role):
    done, _ = job_with_upload(city, ended_days_ago=31)
    failed, _ = job_with_upload(city, kind="member_compare", status=FAILED, ended_days_ago=31, sub="jobs")
    deadline_sweep()
    client = as_role("grassroots")
    message = "上传的文件已在任务结束30天后删除"
    for url in (f"/jobs/{done.id}", f"/members/import/{done.id}", f"/jobs/{failed.id}"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert message in text(response), url
    page = soup(client.get(f"/jobs/{failed.id}"))
    assert page.find("button", string="重试") is None
    response = client.post(f"/jobs/{failed.id}/retry")
    assert response.status_code == 409
    assert message in text(response) and "请重新上传" in text(response)
    assert Job.get_by_id(failed.id).status == FAILED


def test_a_voucher_file_kept_for_an_unfinished_form_is_deleted_after_a_day(app):
    """上传缴费凭证 keeps the chosen file between the steps of its form; a form nobody finished
    leaves it behind, and the hourly sweep deletes it after a day (a recent one stays)."""
    import os
    import time

    from models import storage
    stale = storage.keep_upload("district7", b"%PDF-1.4 stale", "凭证.pdf")
    fresh = storage.keep_upload("district7", b"%PDF-1.4 fresh", "凭证.pdf")
    day_ago = time.time() - 25 * 3600
    os.utime(stale.path, (day_ago, day_ago))
    assert storage.kept_upload("district7", stale.token, "凭证.pdf") is not None
    assert storage.kept_upload("district8", stale.token, "凭证.pdf") is None  # another district's token

    assert deadline_sweep()["kept_purged"] == 1

    assert not stale.path.exists() and storage.kept_upload("district7", stale.token, "凭证.pdf") is None
    assert storage.kept_upload("district7", fresh.token, "凭证.pdf").data == b"%PDF-1.4 fresh"


def test_a_kept_file_vanishing_during_the_sweep_does_not_stop_it(app, monkeypatch):
    """Another process (a 保存 that finished, a second sweep) may delete a kept file while the
    sweep walks the folder: the sweep goes on with the others."""
    import os
    import time
    from pathlib import Path

    from models import storage
    gone = storage.keep_upload("district7", b"%PDF-1.4 gone", "凭证.pdf")
    stale = storage.keep_upload("district7", b"%PDF-1.4 stale", "凭证.pdf")
    day_ago = time.time() - 25 * 3600
    for kept in (gone, stale):
        os.utime(kept.path, (day_ago, day_ago))
    real_stat = Path.stat

    def vanishing(path, *args, **kwargs):
        if path == gone.path:
            path.unlink(missing_ok=True)  # deleted by someone else just now
        return real_stat(path, *args, **kwargs)
    monkeypatch.setattr(Path, "stat", vanishing)
    assert storage.purge_kept() == 1
    assert not stale.path.exists() and not gone.path.exists()


# --- result and error files (they carry ID numbers too: error files the cells as uploaded, exports
# unmasked) go after the same retention ------------------------------------------------------------
def job_with_results(city, kind, files: dict, status=DONE, ended_days_ago=None, upload=False):
    """A job of `kind` whose result names `files` (result key → stored name in jobs/), written."""
    org, account = city.orgs["grassroots1"], city.account("grassroots")
    result = {"summary": "共1行", "rows": 1}
    paths = {}
    for key, prefix in files.items():
        name = f"{prefix}-{secrets.token_hex(6)}.xlsx"
        paths[key] = stored_file("jobs", name)
        paths[key].write_bytes(b"PK\x03\x04 110101199003077777")
        result[key] = name
        result[key.replace("file", "download_name")] = f"{kind}.xlsx"
    params = {"org": org.id, "account": account.id}
    if upload:
        params["upload"] = f"upload-{secrets.token_hex(8)}.bin"
        paths["upload"] = stored_file("uploads", params["upload"])
        paths["upload"].write_bytes(b"110101199003077777")
    ended = now() - timedelta(days=ended_days_ago) if ended_days_ago is not None else None
    job = Job.create(org=org, owner=account, kind=kind, title=kind, status=status, params=json.dumps(params),
                     result=json.dumps(result, ensure_ascii=False), finished_at=ended,
                     created_at=now() - timedelta(days=(ended_days_ago or 0) + 40))
    return job, paths


def test_result_and_error_files_are_deleted_after_the_retention(app, city):
    export, export_files = job_with_results(city, "people_export", {"file": "people"}, ended_days_ago=31)
    audit, audit_files = job_with_results(city, "audit_export", {"file": "audit"}, ended_days_ago=40)
    imported, imported_files = job_with_results(city, "member_import", {"error_file": "member-import-errors"},
                                                ended_days_ago=31, upload=True)
    compared, compared_files = job_with_results(city, "member_compare", {"file": "member-compare-new",
                                                "error_file": "member-compare-errors"}, status=FAILED,
                                                ended_days_ago=35)
    recent, recent_files = job_with_results(city, "people_export", {"file": "people"}, ended_days_ago=29)
    running, running_files = job_with_results(city, "member_compare", {"file": "member-compare-new"},
                                              status=RUNNING)

    assert sorted(deadline_sweep()["purged"]) == sorted([export.id, audit.id, imported.id, compared.id])

    for files in (export_files, audit_files, imported_files, compared_files):
        assert not any(path.exists() for path in files.values())
    assert all(path.exists() for files in (recent_files, running_files) for path in files.values())
    for job in (export, audit, imported, compared):
        assert "文件已在任务结束30天后删除" in Job.get_by_id(job.id).results_removed
    assert Job.get_by_id(imported.id).upload_removed  # the upload as before
    assert Job.get_by_id(recent.id).results_removed == ""
    assert deadline_sweep()["purged"] == []  # recorded: the next hour finds nothing new


def test_a_deleted_result_file_is_said_in_chinese_on_every_download(app, city, as_role):
    export, _ = job_with_results(city, "people_export", {"file": "people"}, ended_days_ago=31)
    errors, _ = job_with_results(city, "card_return", {"error_file": "card-return-errors"}, ended_days_ago=31)
    imported, _ = job_with_results(city, "member_import", {"error_file": "member-import-errors"},
                                   ended_days_ago=31, upload=True)
    compared, _ = job_with_results(city, "member_compare", {"file": "member-compare-new"}, ended_days_ago=31)
    deadline_sweep()
    client = as_role("grassroots")
    for url in (f"/jobs/{export.id}/download", f"/jobs/{errors.id}/errors", f"/members/import/{imported.id}/errors",
                f"/members/sync/{compared.id}/new"):
        response = client.get(url)
        assert response.status_code == 410, url
        assert "已在任务结束30天后删除" in text(response), url
    page = soup(client.get(f"/jobs/{export.id}"))
    assert "已在任务结束30天后删除" in page.get_text() and page.find("a", string="下载结果") is None


def test_the_result_pages_say_the_files_were_removed(app, city, as_role):
    imported, _ = job_with_results(city, "member_import", {"error_file": "member-import-errors"},
                                   ended_days_ago=31, upload=True)
    shown = [[2, "张三", "110101********7777", "证件号码", "x", "证件号码有误"]]
    Job.update(result=json.dumps({**imported.result_data, "error_rows": shown, "error_count": 1})
               ).where(Job.id == imported.id).execute()
    deadline_sweep()
    page = soup(as_role("grassroots").get(f"/members/import/{imported.id}"))
    assert "结果文件和错误数据文件已在任务结束30天后删除" in page.get_text()
    assert page.find("a", string="下载错误数据") is None
