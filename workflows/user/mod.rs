//! Workflows of the `user` area.

mod support_tickets;
mod user_profile;
mod wishlist_favorites;
