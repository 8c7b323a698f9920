//! Workflows of the `shop` area.

mod advanced_browsing;
mod product_purchase;
mod reviews_ratings;
