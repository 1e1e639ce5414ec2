"""会员管理: the roster, its imports, 同步会员, 会员审核 and 会员转出审核, the member counters."""
