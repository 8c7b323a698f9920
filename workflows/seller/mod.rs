//! Workflows of the `seller` area.
