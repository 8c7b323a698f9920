//! Workflows of the `shop` area.
