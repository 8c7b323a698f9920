//! Workflows of the `user` area.
