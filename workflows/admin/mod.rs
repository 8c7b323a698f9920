//! Workflows of the `admin` area.
