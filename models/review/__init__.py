"""会员专享基本保障 → 集中参保审核 / 即时参保审核 (the review queues) and 参保批次管理 /
缴费凭证管理 (district batches, vouchers)."""
