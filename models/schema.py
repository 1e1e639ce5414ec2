"""Every table, in dependency order, and every background job kind.

Importing this module loads every area (app start, the worker, migrations tests, tools): the
job kinds register themselves when their module is imported.
"""

# The job kinds of these modules register themselves when imported.
import peewee as pw

import models.audit_export  # noqa: F401 — registers the 导出操作日志 job kind
import models.cards.card_return  # noqa: F401 — the bank's return file (开卡回盘导入)
import models.enroll.claim_import  # noqa: F401 — 给付信息导入
import models.enroll.status_import  # noqa: F401 — 社保状态导入, 个人参保导入
import models.members.member_import  # noqa: F401 — 批量导入会员
import models.members.member_sync  # noqa: F401 — 同步会员
import models.orgs.org_import  # noqa: F401 — registers the 组织导入 job kind
import models.review.enroll_review  # noqa: F401 — the review queues' partial index on submission
import models.stats.enroll_stats  # noqa: F401 — registers the 导出参保人员名单 job kind
from models.audit import AuditLog
from models.cards.card_batches import CardRevokeRequest
from models.cards.cards import Card, CardBatch, CardBatchItem, CardPending
from models.enroll.card_enroll import CardConfirm
from models.enroll.claims import Claim
from models.enroll.enrollment import Enrollment, StatusRecord, Submission, TypeLock
from models.enroll.plans import Credit, FeeSplit, ProtectionType, ProtectionYear, Window, WindowExtension
from models.enroll.social_enroll import SocialCheck, SocialConfirm
from models.jobs import Job, JobChunk
from models.members.counts import MemberDay, OrgMemberCount, OrgSubtreeCount
from models.members.people import Counter, MemberChange, Membership, Person, TransferRequest
from models.messages import Message, MessageRead
from models.mutual_aid.batches import AidBatch, RosterEntry
from models.mutual_aid.checks import BatchAttachment, RosterConfirmation
from models.mutual_aid.codes import CodeChange, CodeFile, CodeHandler, CodeUnit, InsuranceCode
from models.mutual_aid.premiums import BatchCoverage, BatchItem
from models.mutual_aid.recovery import AccountRecovery
from models.mutual_aid.registry import RegistryPayer, RegistryUnit
from models.mutual_aid.vouchers import AidReceipt, AidReceiptSet, AidVoucher, AidVoucherBatch
from models.mutual_aid.years import AidItem, AidWindow, AidWindowExtension, AidYear
from models.notices import Download, Notice
from models.orgs.accounts import Account, LoginAttempt
from models.orgs.org_requests import OrgRequest
from models.orgs.organizations import Enterprise, Organization, OrgTree
from models.review.batches import BatchCounter, DistrictBatch  # registers the unpaid / reminder sweeps
from models.review.vouchers import PaymentVoucher, VoucherItem
from models.sms import SmsCode
from models.stats.tally import EligibleTally, UnionTally, YearTally  # the monitor's counters (figures hooks)

ALL_MODELS = [Organization, OrgTree, Enterprise, Account, LoginAttempt, AuditLog, Job, Person,
              Membership, OrgMemberCount, OrgSubtreeCount, MemberDay, Message, MessageRead, Notice, Download,
              OrgRequest, JobChunk, Counter, MemberChange, TransferRequest, CardBatch, Card, CardPending,
              CardBatchItem, CardRevokeRequest, ProtectionYear, ProtectionType, Window, WindowExtension,
              FeeSplit, Credit, DistrictBatch, Submission, Enrollment, TypeLock, StatusRecord, CardConfirm,
              PaymentVoucher, VoucherItem, BatchCounter, Claim, SocialCheck, SocialConfirm,
              InsuranceCode, CodeUnit, CodeHandler, CodeChange, CodeFile, AidYear, AidWindow, AidWindowExtension,
              AidItem, AidBatch, RosterEntry, RegistryPayer, RegistryUnit, BatchItem, BatchCoverage,
              BatchAttachment, RosterConfirmation, AidVoucher, AidVoucherBatch, AidReceiptSet, AidReceipt,
              AccountRecovery, SmsCode, UnionTally, EligibleTally, YearTally]

# The core's foreign keys to the areas (DeferredForeignKey) are bound now that every model is
# defined; one left unbound would write to a column that does not exist.
_unbound = [f"{f.model.__name__}.{f.name}" for f in pw.DeferredForeignKey._unresolved]
if _unbound:  # pragma: no cover — a model renamed without its deferred keys
    raise RuntimeError(f"unbound deferred foreign keys: {', '.join(sorted(_unbound))}")
