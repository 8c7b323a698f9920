//! Coupon rules and order/cart totals, shared by the cart, orders and coupon validation.

use crate::models::{Coupon, CouponStatus, CouponType};
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
