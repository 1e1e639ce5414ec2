"""首页 and 集中参保统计 / 实时监控画面: the dashboard and the enrollment statistics."""
