"""The casemanager's workspace: the directory of people to reach, the case overview (action
first), two-way requests to agencies. Services here own their transaction like every service."""
