//! Workflows of the `auction` area.
