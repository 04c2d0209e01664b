"""Ad platforms: accounts, the Meta connector and sandbox, sync jobs, CSV imports."""
