"""An initcheck plugin written the way a third party would write one."""
