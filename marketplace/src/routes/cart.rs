//! The caller's cart: items, coupon and totals.

use super::prelude::*;
use crate::pricing;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/cart", get(show).post(add).delete(clear))
        .route("/api/cart/coupon", post(apply_coupon).delete(remove_coupon))
        .route(
            "/api/cart/{item}",
            axum::routing::patch(set_quantity).delete(remove_item),
        )
}

/// The purchasable unit: price and available stock of `product` (and `variant`, if named).
pub(super) fn unit(
    p: &Product,
    variant: Option<&str>,
    field: &str,
) -> Result<(f64, u32, Option<String>), ApiError> {
    if p.status != ProductStatus::Published {
        return Err(bad(
            field,
            format!("product '{}' is not available for sale", p.id),
        ));
    }
    match variant.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok((p.price, p.stock_count, None)),
        Some(name) => match p
            .variants
            .iter()
            .find(|v| v.name == name || v.value.as_deref() == Some(name))
        {
            Some(v) => Ok((
                v.price.unwrap_or(p.price),
                v.stock.unwrap_or(p.stock_count).min(p.stock_count),
                Some(v.name.clone()),
            )),
            None if p.variants.is_empty() => Ok((p.price, p.stock_count, None)),
            None => Err(bad(
                "variant",
                format!("product '{}' has no variant '{name}'", p.id),
            )),
        },
    }
}

/// `{items, subtotal, discount, shipping, tax, total, itemCount, couponCode}`.
pub(super) fn summary(s: &Store, user_id: &str) -> Value {
    let empty = Cart::default();
    let cart = s.carts.get(user_id).unwrap_or(&empty);
    let subtotal: f64 = cart
        .items
        .iter()
        .map(|i| i.price * f64::from(i.quantity))
        .sum();
    let mut note = None;
    let (discount, free) = match &cart.coupon_code {
        None => (0.0, false),
        Some(code) => match s.coupons.iter().find(|c| &c.code == code) {
            Some(c) => pricing::coupon_discount(c, subtotal, Ts::now()).unwrap_or_else(|e| {
                note = Some(e);
                (0.0, false)
            }),
            None => (0.0, false),
        },
    };
    let t = pricing::totals(subtotal, discount, free);
    json!({
        "items": cart.items,
        "subtotal": t.subtotal,
        "discount": t.discount,
        "shipping": t.shipping,
        "tax": t.tax,
        "total": t.total,
        "itemCount": cart.items.iter().map(|i| u64::from(i.quantity)).sum::<u64>(),
        "couponCode": cart.coupon_code,
        "couponMessage": note,
    })
}

async fn show(State(st): State<Shared>, Auth(u): Auth) -> ApiResult {
    ok(summary(&st.lock(), &u.id))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddBody {
    product_id: Option<String>,
    quantity: Option<u32>,
    variant: Option<String>,
}

async fn add(State(st): State<Shared>, Auth(u): Auth, JsonBody(b): JsonBody<AddBody>) -> ApiResult {
    let pid = validate::required("productId", b.product_id.as_ref(), 100)?;
    let qty = validate::quantity("quantity", b.quantity.unwrap_or(1))?;
    let mut s = st.lock();
    let p = lookup(&s.products, &pid, "productId: product")?.clone();
    let (price, stock, variant) = unit(&p, b.variant.as_deref(), "productId")?;
    let cart = s.carts.entry(u.id.clone()).or_default();
    let existing = cart
        .items
        .iter()
        .position(|i| i.product_id == p.id && i.variant == variant);
    let in_cart = existing.map_or(0, |i| cart.items[i].quantity);
    if in_cart + qty > stock {
        return Err(bad(
            "quantity",
            format!("insufficient stock: {stock} available, {in_cart} already in cart"),
        ));
    }
    let item = match existing {
        Some(i) => {
            cart.items[i].quantity += qty;
            cart.items[i].clone()
        }
        None => {
            let item = CartItem {
                id: String::new(),
                product_id: p.id.clone(),
                product_name: p.name.clone(),
                price,
                quantity: qty,
                variant,
                shop_id: p.shop_id.clone(),
                image: p.images.first().cloned(),
                added_at: Ts::now(),
            };
            let id = s.next_id("ci");
            let cart = s.carts.entry(u.id.clone()).or_default();
            let item = CartItem { id, ..item };
            cart.items.push(item.clone());
            item
        }
    };
    created(item)
}

#[derive(Deserialize)]
struct QuantityBody {
    quantity: Option<u32>,
}

async fn set_quantity(
    State(st): State<Shared>,
    Auth(u): Auth,
    Path(item): Path<String>,
    JsonBody(b): JsonBody<QuantityBody>,
) -> ApiResult {
    let qty = validate::quantity(
        "quantity",
        b.quantity.ok_or_else(|| bad("quantity", "is required"))?,
    )?;
    let mut s = st.lock();
    let line = s
        .carts
        .get(&u.id)
        .and_then(|c| {
            c.items
                .iter()
                .find(|i| i.id == item || i.product_id == item)
        })
        .cloned()
        .ok_or_else(|| not_found("cart item", &item))?;
    let p = lookup(&s.products, &line.product_id, "product")?;
    let (_, stock, _) = unit(p, line.variant.as_deref(), "productId")?;
    if qty > stock {
        return Err(bad(
            "quantity",
            format!("insufficient stock: {stock} available"),
        ));
    }
    let cart = s.carts.entry(u.id.clone()).or_default();
    for i in cart.items.iter_mut().filter(|i| i.id == line.id) {
        i.quantity = qty;
    }
    ok(summary(&s, &u.id))
}

async fn remove_item(
    State(st): State<Shared>,
    Auth(u): Auth,
    Path(item): Path<String>,
) -> ApiResult {
    let mut s = st.lock();
    let cart = s.carts.entry(u.id.clone()).or_default();
    let before = cart.items.len();
    cart.items.retain(|i| i.id != item && i.product_id != item);
    if cart.items.len() == before {
        return Err(not_found("cart item", &item));
    }
    ok(summary(&s, &u.id))
}

async fn clear(State(st): State<Shared>, Auth(u): Auth) -> ApiResult {
    st.lock().carts.remove(&u.id);
    ok(json!({ "message": "cart cleared" }))
}

#[derive(Deserialize)]
struct CouponBody {
    code: Option<String>,
}

async fn apply_coupon(
    State(st): State<Shared>,
    Auth(u): Auth,
    JsonBody(b): JsonBody<CouponBody>,
) -> ApiResult {
    let code = validate::required("code", b.code.as_ref(), 50)?.to_uppercase();
    let mut s = st.lock();
    let c = s
        .coupons
        .iter()
        .find(|c| c.code == code)
        .ok_or_else(|| not_found("code: coupon", &code))?;
    let cart = s.carts.get(&u.id).cloned().unwrap_or_default();
    if cart.items.is_empty() {
        return Err(bad("code", "the cart is empty"));
    }
    let subtotal: f64 = cart
        .items
        .iter()
        .map(|i| i.price * f64::from(i.quantity))
        .sum();
    let claim = pricing::Claim {
        user: Some(&u.id),
        lines: pricing::Claim::of_products(&s, cart.items.iter().map(|i| i.product_id.as_str())),
    };
    pricing::coupon_restrictions(&s, c, &claim).map_err(|e| bad("code", e))?;
    pricing::coupon_discount(c, subtotal, Ts::now()).map_err(|e| bad("code", e))?;
    s.carts.entry(u.id.clone()).or_default().coupon_code = Some(code);
    ok(summary(&s, &u.id))
}

async fn remove_coupon(State(st): State<Shared>, Auth(u): Auth) -> ApiResult {
    let mut s = st.lock();
    if let Some(c) = s.carts.get_mut(&u.id) {
        c.coupon_code = None;
    }
    ok(summary(&s, &u.id))
}
