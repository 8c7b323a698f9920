//! Reviews: one per user per product, moderation, helpful votes (once per user), summary.

use super::prelude::*;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/reviews", get(list).post(create))
        .route("/api/reviews/summary", get(summary))
        .route("/api/reviews/can-review", get(can_review))
        .route("/api/reviews/{id}", get(show))
        .route(
            "/api/reviews/{id}/moderate",
            axum::routing::patch(moderate).post(moderate),
        )
        .route("/api/reviews/{id}/helpful", post(helpful))
}

async fn list(State(st): State<Shared>, q: Params) -> ApiResult {
    let (pg, limit) = q.page()?;
    let approved = q.bool("isApproved")?;
    let rating = q.int("rating", 1, 5)?;
    let desc = q.desc()?;
    let s = st.lock();
    let v: Vec<&Review> = s
        .reviews
        .iter()
        .filter(|r| approved.is_none_or(|x| r.is_approved == x))
        .filter(|r| rating.is_none_or(|x| u64::from(r.rating) == x))
        .filter(|r| q.str("productId").is_none_or(|x| r.product_id == x))
        .filter(|r| q.str("shopId").is_none_or(|x| r.shop_id == x))
        .filter(|r| q.str("userId").is_none_or(|x| r.user_id == x))
        .collect();
    ok(Sorted::new(v, q.str("sortBy"), desc)
        .by("createdAt", |r| r.created_at)
        .by("rating", |r| r.rating)
        .by("helpfulCount", |r| r.helpful_count)
        .page(pg, limit)?)
}

async fn show(State(st): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let s = st.lock();
    ok(lookup(&s.reviews, &id, "review")?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    product_id: Option<String>,
    rating: Option<u8>,
    title: Option<String>,
    comment: Option<String>,
    media: Option<Vec<String>>,
    order_id: Option<String>,
}

/// Why `user` cannot review `product`, if they cannot.
fn refusal(s: &Store, user: &User, product: &Product) -> Option<String> {
    if s.reviews
        .iter()
        .any(|r| r.user_id == user.id && r.product_id == product.id)
    {
        return Some("you have already reviewed this product".into());
    }
    if s.owns_shop(user, &product.shop_id) && !user.is_admin() {
        return Some("sellers cannot review their own products".into());
    }
    None
}

async fn create(
    State(st): State<Shared>,
    Auth(u): Auth,
    JsonBody(b): JsonBody<CreateBody>,
) -> ApiResult {
    let pid = validate::required("productId", b.product_id.as_ref(), 100)?;
    let rating = b.rating.ok_or_else(|| bad("rating", "is required"))?;
    if !(1..=5).contains(&rating) {
        return Err(bad("rating", "must be a whole number from 1 to 5"));
    }
    let comment = validate::required("comment", b.comment.as_ref(), 5000)?;
    let title = validate::optional("title", b.title.as_ref(), 200)?.unwrap_or_default();
    let media = validate::strings("media", b.media.as_deref().unwrap_or(&[]), 20)?;
    let mut s = st.lock();
    let p = lookup(&s.products, &pid, "productId: product")?.clone();
    if let Some(why) = refusal(&s, &u, &p) {
        return Err(conflict(format!("productId: {why}")));
    }
    let verified = match b.order_id.as_deref() {
        None => false,
        Some(k) => {
            let refusal = "orderId: this order belongs to another customer";
            let o = get_allowed(
                &s.orders,
                k,
                "orderId: order",
                |o| o.customer_id == u.id,
                refusal,
            )?;
            o.items.iter().any(|i| i.product_id == p.id)
        }
    };
    let now = Ts::now();
    let r = Review {
        id: s.next_id("rev"),
        user_id: u.id.clone(),
        user_name: u.name.clone(),
        product_id: p.id.clone(),
        shop_id: p.shop_id.clone(),
        order_id: b.order_id,
        rating,
        title,
        comment,
        media,
        verified_purchase: verified,
        helpful_count: 0,
        helpful_by: vec![],
        is_featured: false,
        is_approved: false,
        moderation_notes: None,
        moderated_at: None,
        moderated_by: None,
        created_at: now,
        updated_at: now,
    };
    s.reviews.push(r.clone());
    created(r)
}

async fn can_review(State(st): State<Shared>, Auth(u): Auth, q: Params) -> ApiResult {
    let pid = q
        .str("productId")
        .ok_or_else(|| bad("productId", "is required"))?;
    let s = st.lock();
    let p = lookup(&s.products, pid, "productId: product")?;
    match refusal(&s, &u, p) {
        None => ok(json!({ "canReview": true })),
        Some(why) => ok(json!({ "canReview": false, "reason": why })),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ModerateBody {
    is_approved: Option<bool>,
    moderation_notes: Option<String>,
    is_featured: Option<bool>,
}

/// Recomputes a product's rating and review count from its approved reviews.
fn rerate(s: &mut Store, product_id: &str) {
    let (n, sum) = s
        .reviews
        .iter()
        .filter(|r| r.product_id == product_id && r.is_approved)
        .fold((0u32, 0u32), |(n, sum), r| {
            (n + 1, sum + u32::from(r.rating))
        });
    if let Some(p) = s.products.iter_mut().find(|p| p.id == product_id) {
        p.review_count = n;
        p.rating = if n == 0 {
            0.0
        } else {
            (f64::from(sum) / f64::from(n) * 10.0).round() / 10.0
        };
    }
}

async fn moderate(
    State(st): State<Shared>,
    Auth(u): Auth,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ModerateBody>,
) -> ApiResult {
    let approved = b
        .is_approved
        .ok_or_else(|| bad("isApproved", "is required"))?;
    let notes = validate::optional("moderationNotes", b.moderation_notes.as_ref(), 2000)?;
    let mut s = st.lock();
    let r = lookup(&s.reviews, &id, "review")?;
    s.ensure_owner(
        &u,
        &r.shop_id,
        "only an admin or the product's seller can moderate reviews",
    )?;
    let pid = r.product_id.clone();
    let r = lookup_mut(&mut s.reviews, &id, "review")?;
    let now = Ts::now();
    r.is_approved = approved;
    r.moderation_notes = notes;
    r.moderated_at = Some(now);
    r.moderated_by = Some(u.id.clone());
    patch!(r, b: is_featured);
    r.updated_at = now;
    let out = r.clone();
    rerate(&mut s, &pid);
    ok(out)
}

async fn helpful(
    State(st): State<Shared>,
    Auth(u): Auth,
    Path(id): Path<String>,
    JsonBody(_): JsonBody<Empty>,
) -> ApiResult {
    let mut s = st.lock();
    let r = lookup_mut(&mut s.reviews, &id, "review")?;
    if r.helpful_by.contains(&u.id) {
        return Err(conflict("you have already marked this review helpful"));
    }
    r.helpful_by.push(u.id.clone());
    r.helpful_count += 1;
    ok(json!({ "id": r.id, "helpfulCount": r.helpful_count }))
}

async fn summary(State(st): State<Shared>, q: Params) -> ApiResult {
    let pid = q
        .str("productId")
        .ok_or_else(|| bad("productId", "is required"))?;
    let s = st.lock();
    let p = lookup(&s.products, pid, "productId: product")?;
    let rs: Vec<&Review> = s
        .reviews
        .iter()
        .filter(|r| r.product_id == p.id && r.is_approved)
        .collect();
    let n = rs.len();
    let mut dist = serde_json::Map::new();
    for star in 1..=5u8 {
        dist.insert(
            star.to_string(),
            json!(rs.iter().filter(|r| r.rating == star).count()),
        );
    }
    let avg = if n == 0 {
        0.0
    } else {
        rs.iter().map(|r| f64::from(r.rating)).sum::<f64>() / n as f64
    };
    let verified = rs.iter().filter(|r| r.verified_purchase).count();
    ok(json!({
        "productId": p.id,
        "averageRating": (avg * 10.0).round() / 10.0,
        "totalReviews": n,
        "ratingDistribution": dist,
        "verifiedPurchasePercentage": if n == 0 { 0.0 } else { (verified as f64 * 1000.0 / n as f64).round() / 10.0 },
    }))
}
