# root's own settings, read by a login shell after /etc/profile.
