"""Joint acceptance (竣工验收), warranty items (保修) and warranty claims."""
