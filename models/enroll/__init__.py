"""会员专享基本保障, plans and enrollment: 保障年度设置 and the fee rules, the two enrollment
channels (会员卡 / 社保卡), 社保状态与个人参保导入, 告知书, 保障信息查询, 给付信息查询."""
