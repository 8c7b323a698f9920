//! Coupon rules and order/cart totals, shared by the cart, orders and coupon validation.

use crate::models::{Applicability, Coupon, CouponStatus, CouponType, OrderStatus};
use crate::store::Store;
use crate::time::Ts;
use crate::validate::round2;
use serde::Serialize;

/// Subtotal above which shipping is free.
pub const FREE_SHIPPING_ABOVE: f64 = 5000.0;
/// Flat shipping fee below that.
pub const SHIPPING_FEE: f64 = 100.0;
/// Tax rate applied to `subtotal - discount`.
pub const TAX_RATE: f64 = 0.18;

/// Money totals of a cart or order.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub subtotal: f64,
    pub discount: f64,
    pub shipping: f64,
    pub tax: f64,
    pub total: f64,
}

/// Why a coupon cannot be applied, or the discount it gives and whether it frees shipping.
pub fn coupon_discount(c: &Coupon, subtotal: f64, now: Ts) -> Result<(f64, bool), String> {
    if c.status != CouponStatus::Active {
        let s = serde_json::to_value(c.status).unwrap_or_default();
        return Err(format!(
            "coupon {} is {}",
            c.code,
            s.as_str().unwrap_or("inactive")
        ));
    }
    if now < c.start_date {
        return Err(format!(
            "coupon {} is not valid before {}",
            c.code, c.start_date
        ));
    }
    if now > c.end_date {
        return Err(format!("coupon {} expired on {}", c.code, c.end_date));
    }
    if c.usage_limit.is_some_and(|l| c.usage_count >= l) {
        return Err(format!("coupon {} has reached its usage limit", c.code));
    }
    if subtotal < c.min_purchase_amount {
        return Err(format!(
            "coupon {} needs a minimum purchase of {}",
            c.code, c.min_purchase_amount
        ));
    }
    let (d, free) = match c.kind {
        CouponType::Percentage => {
            let d = subtotal * c.discount_value / 100.0;
            (c.max_discount_amount.map_or(d, |m| d.min(m)), false)
        }
        CouponType::Flat => (c.discount_value.min(subtotal), false),
        CouponType::FreeShipping => (0.0, true),
        // Not modelled: accepted and stored, but they give no discount.
        CouponType::Bogo | CouponType::Tiered => (0.0, false),
    };
    Ok((round2(d), free))
}

/// Who claims a coupon, on what: what the restrictions beyond amounts and dates look at.
#[derive(Debug, Default)]
pub struct Claim<'a> {
    /// The user, when known (a validation may be anonymous: no per-user rule is checked).
    pub user: Option<&'a str>,
    /// Each line's product id and category id (either may be unknown); no lines: the
    /// applicability is not checked.
    pub lines: Vec<Line>,
}

/// A line's product id and category id, either maybe unknown.
pub type Line = (Option<String>, Option<String>);

impl Claim<'_> {
    /// The lines of `products`, their categories looked up in `s`.
    pub fn of_products<'p>(s: &Store, products: impl IntoIterator<Item = &'p str>) -> Vec<Line> {
        products
            .into_iter()
            .map(|id| {
                let category = s
                    .products
                    .iter()
                    .find(|p| p.id == id)
                    .map(|p| p.category_id.clone());
                (Some(id.to_owned()), category)
            })
            .collect()
    }
}

/// Why `claim` may not use `c`: its applicability (categories, products), its per-user limit
/// (orders of the user that used it, cancelled ones not counted), its first-order rule.
pub fn coupon_restrictions(s: &Store, c: &Coupon, claim: &Claim) -> Result<(), String> {
    let any_line =
        |hit: &dyn Fn(&Line) -> bool| claim.lines.is_empty() || claim.lines.iter().any(hit);
    match c.applicability {
        Applicability::All => {}
        Applicability::Category => {
            let hit = |(_, cat): &Line| {
                cat.as_ref()
                    .is_some_and(|k| c.applicable_categories.contains(k))
            };
            if !any_line(&hit) {
                return Err(format!(
                    "coupon {} applies only to the categories {}",
                    c.code,
                    c.applicable_categories.join(", ")
                ));
            }
        }
        Applicability::Product => {
            let hit = |(p, _): &Line| {
                p.as_ref()
                    .is_some_and(|k| c.applicable_products.contains(k))
            };
            if !any_line(&hit) {
                return Err(format!(
                    "coupon {} applies only to the products {}",
                    c.code,
                    c.applicable_products.join(", ")
                ));
            }
        }
    }
    let Some(user) = claim.user else {
        return Ok(());
    };
    let orders: Vec<_> = s
        .orders
        .iter()
        .filter(|o| o.customer_id == user && o.status != OrderStatus::Cancelled)
        .collect();
    if c.first_order_only && !orders.is_empty() {
        return Err(format!(
            "coupon {} is for a first order only; this user has {} order(s)",
            c.code,
            orders.len()
        ));
    }
    if let Some(limit) = c.usage_limit_per_user {
        let used = orders
            .iter()
            .filter(|o| o.coupon_code.as_deref() == Some(c.code.as_str()))
            .count();
        if used >= limit as usize {
            return Err(format!(
                "coupon {} may be used {limit} time(s) per user; this user has used it {used}",
                c.code
            ));
        }
    }
    Ok(())
}

/// Totals from a subtotal and a discount: shipping 0 above 5000 (or with a free-shipping
/// coupon, or for an empty cart) else 100; tax 18% of `subtotal - discount`.
pub fn totals(subtotal: f64, discount: f64, free_shipping: bool) -> Totals {
    let subtotal = round2(subtotal);
    let discount = round2(discount.min(subtotal));
    let shipping = if subtotal == 0.0 || subtotal > FREE_SHIPPING_ABOVE || free_shipping {
        0.0
    } else {
        SHIPPING_FEE
    };
    let tax = round2((subtotal - discount) * TAX_RATE);
    Totals {
        subtotal,
        discount,
        shipping,
        tax,
        total: round2(subtotal + shipping + tax - discount),
    }
}
