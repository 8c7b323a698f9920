//! Workflows of the `admin` area.

mod blog;
mod category_creation;
mod hero_slides;
mod inline_edits;
mod returns;
