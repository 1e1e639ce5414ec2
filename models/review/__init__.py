"""会员专享基本保障 → 集中参保审核 / 即时参保审核 (the review queues: enroll_review), 参保批次管理
(district batches, the centre's decisions, reminders, the payment-detail mail: batches) and
缴费凭证管理 (vouchers). enroll_review → batches ← vouchers; nothing here imports a view."""
