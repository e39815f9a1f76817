"""Sources: each turns a channel's posts or an export into record cases."""
