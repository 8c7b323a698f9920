//! Workflows of the `seller` area.

mod coupons;
mod dashboard;
pub(crate) mod fixtures;
mod inline_operations;
mod order_fulfillment;
mod product_creation;
mod returns;
