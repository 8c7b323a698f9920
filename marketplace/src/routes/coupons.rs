//! Coupons: CRUD keyed by code or id, and validation against a cart total.

use super::prelude::*;
use crate::pricing;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/coupons", get(list).post(create))
        .route("/api/coupons/validate", post(validate_code))
        .route("/api/coupons/{key}", get(show).patch(update).delete(remove))
}

async fn list(State(st): State<Shared>, q: Params) -> ApiResult {
    let (pg, limit) = q.page()?;
    let status: Option<CouponStatus> = q.parse("status")?;
    let kind: Option<CouponType> = q.parse("type")?;
    let featured = q.bool("isFeatured")?;
    // Oldest first by default, so the long-lived seeded coupons lead the list.
    let desc = if q.str("sortOrder").is_some() {
        q.desc()?
    } else {
        false
    };
    let s = st.lock();
    let v: Vec<&Coupon> = s
        .coupons
        .iter()
        .filter(|c| status.is_none_or(|x| c.status == x))
        .filter(|c| kind.is_none_or(|x| c.kind == x))
        .filter(|c| featured.is_none_or(|x| c.is_featured == x))
        .filter(|c| {
            q.str("shopId")
                .is_none_or(|x| c.shop_id.as_deref() == Some(x))
        })
        .filter(|c| {
            q.str("search")
                .is_none_or(|t| contains(&c.code, t) || contains(&c.name, t))
        })
        .collect();
    ok(Sorted::new(v, q.str("sortBy"), desc)
        .by("createdAt", |c| c.created_at)
        .by("code", |c| c.code.clone())
        .by("endDate", |c| c.end_date)
        .by("usageCount", |c| c.usage_count)
        .by("discountValue", |c| c.discount_value)
        .page(pg, limit)?)
}

async fn show(State(st): State<Shared>, Path(key): Path<String>) -> ApiResult {
    let s = st.lock();
    ok(lookup(&s.coupons, &key, "coupon")?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CouponBody {
    shop_id: Option<String>,
    code: Option<String>,
    name: Option<String>,
    description: Option<String>,
    #[serde(rename = "type")]
    kind: Option<CouponType>,
    discount_value: Option<f64>,
    max_discount_amount: Option<f64>,
    min_purchase_amount: Option<f64>,
    min_quantity: Option<u32>,
    applicability: Option<Applicability>,
    applicable_categories: Option<Vec<String>>,
    applicable_products: Option<Vec<String>>,
    usage_limit: Option<u32>,
    usage_limit_per_user: Option<u32>,
    start_date: Option<Ts>,
    end_date: Option<Ts>,
    status: Option<CouponStatus>,
    first_order_only: Option<bool>,
    new_users_only: Option<bool>,
    can_combine_with_other_coupons: Option<bool>,
    auto_apply: Option<bool>,
    is_public: Option<bool>,
    is_featured: Option<bool>,
}

fn code(v: &str) -> Result<String, ApiError> {
    let c = validate::text("code", v, 40)?.to_uppercase();
    if c.len() < 3
        || !c
            .chars()
            .all(|x| x.is_ascii_alphanumeric() || x == '_' || x == '-')
    {
        return Err(bad("code", "must be 3-40 letters, digits, '_' or '-'"));
    }
    Ok(c)
}

/// Numeric checks shared by create and update.
fn check(b: &mut CouponBody) -> Result<(), ApiError> {
    if let Some(v) = b.discount_value {
        b.discount_value = Some(validate::money("discountValue", v)?);
    }
    if let Some(v) = b.max_discount_amount {
        b.max_discount_amount = Some(validate::money("maxDiscountAmount", v)?);
    }
    if let Some(v) = b.min_purchase_amount {
        b.min_purchase_amount = Some(validate::money("minPurchaseAmount", v)?);
    }
    if let Some(v) = b.min_quantity {
        validate::at_most("minQuantity", v, validate::MAX_QUANTITY)?;
    }
    if let Some(v) = b.usage_limit {
        validate::at_most("usageLimit", v, 10_000_000)?;
    }
    if let Some(v) = b.usage_limit_per_user {
        validate::at_most("usageLimitPerUser", v, 10_000_000)?;
    }
    for (f, v) in [
        ("applicableCategories", &b.applicable_categories),
        ("applicableProducts", &b.applicable_products),
    ] {
        if let Some(v) = v {
            validate::strings(f, v, 500)?;
        }
    }
    Ok(())
}

/// Value/type consistency of a (possibly updated) coupon.
fn check_coupon(c: &Coupon) -> Result<(), ApiError> {
    match c.kind {
        CouponType::Percentage if c.discount_value <= 0.0 || c.discount_value > 100.0 => Err(bad(
            "discountValue",
            "a percentage coupon needs a value from 0 (exclusive) to 100",
        )),
        CouponType::Flat if c.discount_value <= 0.0 => {
            Err(bad("discountValue", "a flat coupon needs a value above 0"))
        }
        _ if c.end_date <= c.start_date => Err(bad("endDate", "must be after startDate")),
        _ => Ok(()),
    }
}

async fn create(
    State(st): State<Shared>,
    Auth(u): Auth,
    JsonBody(mut b): JsonBody<CouponBody>,
) -> ApiResult {
    ensure(u.sells(), "only sellers and admins can create coupons")?;
    check(&mut b)?;
    let code = code(&validate::required("code", b.code.as_ref(), 40)?)?;
    let kind = b.kind.ok_or_else(|| {
        bad(
            "type",
            "is required (percentage, flat, bogo, tiered, free-shipping)",
        )
    })?;
    let value = match (kind, b.discount_value) {
        (_, Some(v)) => v,
        (CouponType::FreeShipping | CouponType::Bogo | CouponType::Tiered, None) => 0.0,
        (_, None) => return Err(bad("discountValue", "is required")),
    };
    let now = Ts::now();
    let mut s = st.lock();
    let shop_id = match &b.shop_id {
        Some(k) => Some(id_of(&s.shops, k, "shopId: shop")?),
        None if u.is_admin() => None,
        None => return Err(bad("shopId", "is required for sellers")),
    };
    if let Some(sh) = &shop_id {
        s.ensure_owner(&u, sh, "sellers can only create coupons for their own shop")?;
    }
    if s.coupons.iter().any(|c| c.code == code) {
        return Err(conflict(format!(
            "code: coupon code '{code}' is already taken"
        )));
    }
    let start = b.start_date.unwrap_or(now);
    let c = Coupon {
        id: s.next_id("cpn"),
        shop_id,
        name: b.name.unwrap_or_else(|| code.clone()),
        code,
        description: b.description.unwrap_or_default(),
        kind,
        discount_value: value,
        max_discount_amount: b.max_discount_amount,
        min_purchase_amount: b.min_purchase_amount.unwrap_or(0.0),
        min_quantity: b.min_quantity.unwrap_or(1),
        applicability: b.applicability.unwrap_or(Applicability::All),
        applicable_categories: b.applicable_categories.unwrap_or_default(),
        applicable_products: b.applicable_products.unwrap_or_default(),
        usage_limit: b.usage_limit,
        usage_limit_per_user: b.usage_limit_per_user,
        usage_count: 0,
        start_date: start,
        end_date: b.end_date.unwrap_or(start.plus_days(30)),
        status: b.status.unwrap_or(CouponStatus::Active),
        first_order_only: b.first_order_only.unwrap_or(false),
        new_users_only: b.new_users_only.unwrap_or(false),
        can_combine_with_other_coupons: b.can_combine_with_other_coupons.unwrap_or(false),
        auto_apply: b.auto_apply.unwrap_or(false),
        is_public: b.is_public.unwrap_or(true),
        is_featured: b.is_featured.unwrap_or(false),
        created_at: now,
        updated_at: now,
    };
    check_coupon(&c)?;
    s.coupons.push(c.clone());
    created(c)
}

fn owned_index(s: &Store, u: &User, key: &str) -> Result<usize, ApiError> {
    let i = index(&s.coupons, key, "coupon")?;
    let allowed = match &s.coupons[i].shop_id {
        Some(sh) => s.owns_shop(u, sh),
        None => u.is_admin(),
    };
    ensure(
        allowed,
        "only the coupon's shop owner or an admin can change it",
    )?;
    Ok(i)
}

async fn update(
    State(st): State<Shared>,
    Auth(u): Auth,
    Path(key): Path<String>,
    JsonBody(mut b): JsonBody<CouponBody>,
) -> ApiResult {
    check(&mut b)?;
    let new_code = present(b.code.as_deref(), code)?;
    let mut s = st.lock();
    let i = owned_index(&s, &u, &key)?;
    if let Some(nc) = &new_code
        && s.coupons
            .iter()
            .enumerate()
            .any(|(j, c)| &c.code == nc && j != i)
    {
        return Err(conflict(format!(
            "code: coupon code '{nc}' is already taken"
        )));
    }
    let mut c = s.coupons[i].clone();
    set(&mut c.code, new_code);
    patch_some!(c, b: max_discount_amount, usage_limit, usage_limit_per_user);
    patch!(
        c,
        b: name,
        description,
        kind,
        discount_value,
        min_purchase_amount,
        min_quantity,
        applicability,
        applicable_categories,
        applicable_products,
        start_date,
        end_date,
        status,
        first_order_only,
        new_users_only,
        can_combine_with_other_coupons,
        auto_apply,
        is_public,
        is_featured
    );
    check_coupon(&c)?;
    c.updated_at = Ts::now();
    s.coupons[i] = c.clone();
    ok(c)
}

async fn remove(State(st): State<Shared>, Auth(u): Auth, Path(key): Path<String>) -> ApiResult {
    let mut s = st.lock();
    let i = owned_index(&s, &u, &key)?;
    let c = s.coupons.remove(i);
    ok(json!({ "message": format!("coupon {} deleted", c.code) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValidateBody {
    code: Option<String>,
    cart_total: Option<f64>,
    #[serde(default)]
    items: Vec<ValidateItem>,
}

/// The amounts use `cartTotal`; the items' product and category ids decide a coupon's
/// applicability (a product id alone is looked up for its category).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValidateItem {
    product_id: Option<String>,
    category_id: Option<String>,
    quantity: Option<u32>,
    price: Option<f64>,
}

async fn validate_code(
    State(st): State<Shared>,
    MaybeAuth(user): MaybeAuth,
    JsonBody(b): JsonBody<ValidateBody>,
) -> ApiResult {
    let code = code(&validate::required("code", b.code.as_ref(), 40)?)?;
    let total = validate::money(
        "cartTotal",
        b.cart_total
            .ok_or_else(|| bad("cartTotal", "is required"))?,
    )?;
    for (i, it) in b.items.iter().enumerate() {
        if let Some(p) = it.price {
            validate::money(&format!("items[{i}].price"), p)?;
        }
        if let Some(q) = it.quantity {
            validate::quantity(&format!("items[{i}].quantity"), q)?;
        }
    }
    let s = st.lock();
    let Some(c) = s.coupons.iter().find(|c| c.code == code) else {
        return ok(
            json!({ "valid": false, "discount": 0, "message": format!("coupon {code} not found") }),
        );
    };
    let lines = b
        .items
        .iter()
        .map(|it| {
            let looked_up = || {
                let id = it.product_id.as_deref()?;
                s.products
                    .iter()
                    .find(|p| p.id == id)
                    .map(|p| p.category_id.clone())
            };
            (
                it.product_id.clone(),
                it.category_id.clone().or_else(looked_up),
            )
        })
        .collect();
    let claim = pricing::Claim {
        user: user.as_ref().map(|u| u.id.as_str()),
        lines,
    };
    let checked = pricing::coupon_restrictions(&s, c, &claim)
        .and_then(|()| pricing::coupon_discount(c, total, Ts::now()));
    match checked {
        Ok((d, free)) => ok(json!({
            "valid": true, "discount": d, "freeShipping": free, "code": c.code, "type": c.kind,
            "message": format!("coupon {} applied", c.code),
        })),
        Err(e) => ok(json!({ "valid": false, "discount": 0, "code": c.code, "message": e })),
    }
}
