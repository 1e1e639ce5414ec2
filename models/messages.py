"""消息提醒: messages to one account or to every account of an organisation.

Later areas post here (returned batches, deadlines, finished jobs, approvals) with `post()`.
Read state is per account (MessageRead), so an organisation-wide message is unread for each of
its accounts until that account opens it.
"""

import peewee as pw

from models.base import BaseModel, Prepared, now


class Message(BaseModel):
    scope_field = "org"
    own_org_only = True  # a superior does not read its subordinates' messages
    org = pw.DeferredForeignKey("Organization", on_delete="CASCADE")
    account = pw.DeferredForeignKey("Account", null=True, on_delete="CASCADE")  # None: whole org
    kind = pw.CharField(max_length=20, default="通知")  # 任务完成 / 退回 / 审核 / 截止提醒 …
    title = pw.CharField(max_length=200)
    body = pw.TextField(default="")
    link = pw.CharField(max_length=300, default="")  # a URL inside the app
    created_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((("org", "created_at"), False), (("account", "created_at"), False))


class MessageRead(BaseModel):
    scope_field = None
    message = pw.ForeignKeyField(Message, on_delete="CASCADE")
    account = pw.DeferredForeignKey("Account", on_delete="CASCADE")
    read_at = pw.DateTimeField(default=now)

    class Meta:
        primary_key = pw.CompositeKey("message", "account")


def post(org, title: str, body: str = "", link: str = "", kind: str = "通知", account=None) -> Message:
    org_id = org if isinstance(org, int) else org.id
    if account is not None and not isinstance(account, int):
        account = account.id
    return Message.create(org=org_id, account=account, title=title[:200], body=body, link=link,
                          kind=kind)


def for_account(account):
    """Messages addressed to the account or to its whole organisation, newest first."""
    return (Message.select().where((Message.org == account.org_id)
                                   & ((Message.account.is_null()) | (Message.account == account.id)))
            .order_by(Message.created_at.desc(), Message.id.desc()))


def unread(account):
    read = MessageRead.select(MessageRead.message).where(MessageRead.account == account.id)
    return for_account(account).where(Message.id.not_in(read))


def _unread_count_query(org_id, account_id):
    read = MessageRead.select(MessageRead.message).where(MessageRead.account == account_id)
    return (Message.select(pw.fn.COUNT(Message.id)).where(
        (Message.org == org_id) & (Message.account.is_null() | (Message.account == account_id))
        & Message.id.not_in(read)))


_UNREAD_COUNT = Prepared(_unread_count_query, 2)  # composed once: every full page shows the badge


def unread_count(account) -> int:
    """消息提醒's badge (every full page): how many of `unread(account)`."""
    return int(_UNREAD_COUNT.scalar(account.org_id, account.id) or 0)


def read_ids(account, message_ids) -> set:
    """Which of these messages the account has read."""
    return {r.message_id for r in MessageRead.select(MessageRead.message).where(
        (MessageRead.account == account.id) & MessageRead.message.in_(list(message_ids)))}


def mark_read(account, message_ids=None) -> int:
    """Mark messages read (only those addressed to the account; None: all its unread ones);
    returns how many were new."""
    query = unread(account)
    if message_ids is not None:
        query = query.where(Message.id.in_(list(message_ids)))
    ids = [m.id for m in query.select(Message.id)]
    if ids:
        MessageRead.insert_many([{"message": i, "account": account.id, "read_at": now()} for i in ids]) \
            .on_conflict_ignore().execute()
    return len(ids)
