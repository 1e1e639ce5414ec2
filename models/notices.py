"""重要通知 and 下载中心: published by the centre, readable without logging in (the login page
links to them). Files live in the storage directory, never under static/."""

import peewee as pw

from models.base import BaseModel, now


class Notice(BaseModel):
    scope_field = None  # public once published; managed by the centre (city-wide scope)
    title = pw.CharField(max_length=200)
    body = pw.TextField(default="")
    published = pw.BooleanField(default=True, index=True)
    pinned = pw.BooleanField(default=False)  # 置顶
    org = pw.DeferredForeignKey("Organization", null=True, on_delete="SET NULL")  # publisher
    author = pw.DeferredForeignKey("Account", null=True, on_delete="SET NULL")
    published_at = pw.DateTimeField(default=now, index=True)
    updated_at = pw.DateTimeField(default=now)


class Download(BaseModel):
    scope_field = None
    title = pw.CharField(max_length=200)
    description = pw.CharField(max_length=500, default="")
    category = pw.CharField(max_length=20, default="操作说明")  # 操作说明 / 模板 / 其他
    filename = pw.CharField(max_length=200)  # the name the user downloads
    stored_name = pw.CharField(max_length=100, unique=True)  # file in STORAGE_DIR/downloads
    content_type = pw.CharField(max_length=100)
    size = pw.IntegerField()
    published = pw.BooleanField(default=True, index=True)
    org = pw.DeferredForeignKey("Organization", null=True, on_delete="SET NULL")
    author = pw.DeferredForeignKey("Account", null=True, on_delete="SET NULL")
    uploaded_at = pw.DateTimeField(default=now, index=True)
