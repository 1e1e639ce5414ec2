"""组织管理 and 账号管理: organisations, 覆盖企业, 组织审核, 组织导入, accounts."""
