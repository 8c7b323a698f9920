//! Auctions, bids and the watchlist. Fixed segments (featured, live, watchlist, my-bids, won,
//! validate-slug) are static routes, which the router matches before `{id}`.

use super::prelude::*;

/// Every bid after the first must beat the current bid by at least this much.
pub const MIN_INCREMENT: f64 = 100.0;
/// The most active (scheduled or live) auctions one shop may have at once.
pub const MAX_ACTIVE_PER_SHOP: usize = 5;

fn active(status: AuctionStatus) -> bool {
    matches!(status, AuctionStatus::Scheduled | AuctionStatus::Live)
}

/// `409` when `shop_id` already has [`MAX_ACTIVE_PER_SHOP`] active auctions besides `except`.
fn ensure_room(s: &Store, shop_id: &str, except: Option<&str>) -> Result<(), ApiError> {
    let n = s
        .auctions
        .iter()
        .filter(|a| a.shop_id == shop_id && active(a.status) && Some(a.id.as_str()) != except)
        .count();
    match n >= MAX_ACTIVE_PER_SHOP {
        true => Err(conflict(format!(
            "shop '{shop_id}' already has {n} active (scheduled or live) auctions, the most a shop may have is {MAX_ACTIVE_PER_SHOP}"
        ))),
        false => Ok(()),
    }
}

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/auctions", get(list).post(create))
        .route("/api/auctions/featured", get(featured))
        .route("/api/auctions/live", get(live))
        .route("/api/auctions/watchlist", get(watchlist))
        .route("/api/auctions/my-bids", get(my_bids))
        .route("/api/auctions/won", get(won))
        .route("/api/auctions/validate-slug", get(validate_slug))
        .route("/api/auctions/{key}", get(show).patch(update))
        .route("/api/auctions/{key}/bid", get(bids).post(place_bid))
        .route("/api/auctions/{key}/bids", get(bids).post(place_bid))
        .route("/api/auctions/{key}/watch", post(watch))
}

/// Locks the store after ending/starting auctions whose time has come.
fn fresh(st: &Shared) -> std::sync::MutexGuard<'_, Store> {
    let mut s = st.lock();
    s.tick_auctions(Ts::now());
    s
}

async fn list(State(st): State<Shared>, q: Params) -> ApiResult {
    let (pg, limit) = q.page()?;
    let status: Option<AuctionStatus> = q.parse("status")?;
    let soon = q.bool("endingSoon")?;
    let featured = q.bool("isFeatured")?;
    let desc = q.desc()?;
    let now = Ts::now();
    let s = fresh(&st);
    let v: Vec<&Auction> = s
        .auctions
        .iter()
        .filter(|a| status.is_none_or(|x| a.status == x))
        .filter(|a| {
            soon != Some(true)
                || (a.status == AuctionStatus::Live && a.end_time <= now.plus_hours(24))
        })
        .filter(|a| featured.is_none_or(|x| a.is_featured == x))
        .filter(|a| q.str("shopId").is_none_or(|x| a.shop_id == x))
        .filter(|a| {
            q.str("search")
                .is_none_or(|t| contains(&a.name, t) || contains(&a.description, t))
        })
        .collect();
    ok(Sorted::new(v, q.str("sortBy"), desc)
        .by("createdAt", |a| a.created_at)
        .by("endTime", |a| a.end_time)
        .by("startTime", |a| a.start_time)
        .by("currentBid", |a| a.current_bid)
        .by("bidCount", |a| a.bid_count)
        .page(pg, limit)?)
}

async fn featured(State(st): State<Shared>) -> ApiResult {
    let s = fresh(&st);
    let mut v: Vec<&Auction> = s
        .auctions
        .iter()
        .filter(|a| a.is_featured && a.status == AuctionStatus::Live)
        .collect();
    sort(&mut v, true, |a| a.featured_priority);
    ok(v)
}

async fn live(State(st): State<Shared>) -> ApiResult {
    let s = fresh(&st);
    let mut v: Vec<&Auction> = s
        .auctions
        .iter()
        .filter(|a| a.status == AuctionStatus::Live)
        .collect();
    sort(&mut v, false, |a| a.end_time);
    ok(v)
}

async fn watchlist(State(st): State<Shared>, Auth(u): Auth) -> ApiResult {
    let s = fresh(&st);
    let v: Vec<&Auction> = s
        .watches
        .iter()
        .filter(|w| w.0 == u.id)
        .filter_map(|w| s.auctions.iter().find(|a| a.id == w.1))
        .collect();
    ok(v)
}

async fn my_bids(State(st): State<Shared>, Auth(u): Auth) -> ApiResult {
    let s = fresh(&st);
    let mut v: Vec<Value> = s
        .bids
        .iter()
        .filter(|b| b.user_id == u.id)
        .map(|b| {
            let mut j = json!(b);
            if let Some(a) = s.auctions.iter().find(|a| a.id == b.auction_id) {
                j["auctionName"] = json!(a.name);
                j["auctionStatus"] = json!(a.status);
                j["currentBid"] = json!(a.current_bid);
                j["endTime"] = json!(a.end_time);
            }
            j
        })
        .collect();
    v.reverse();
    ok(v)
}

async fn won(State(st): State<Shared>, Auth(u): Auth) -> ApiResult {
    let s = fresh(&st);
    let v: Vec<&Auction> = s
        .auctions
        .iter()
        .filter(|a| {
            a.status == AuctionStatus::Ended && a.winner_id.as_deref() == Some(u.id.as_str())
        })
        .collect();
    ok(v)
}

async fn validate_slug(State(st): State<Shared>, q: Params) -> ApiResult {
    let slug = validate::slug("slug", q.str("slug").unwrap_or(""))?;
    let s = st.lock();
    ok(json!({ "slug": slug, "available": find(&s.auctions, &slug).is_none() }))
}

async fn show(State(st): State<Shared>, Path(key): Path<String>) -> ApiResult {
    let s = fresh(&st);
    ok(lookup(&s.auctions, &key, "auction")?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuctionBody {
    shop_id: Option<String>,
    name: Option<String>,
    slug: Option<String>,
    description: Option<String>,
    images: Option<Vec<String>>,
    videos: Option<Vec<String>>,
    starting_bid: Option<f64>,
    reserve_price: Option<f64>,
    start_time: Option<Ts>,
    end_time: Option<Ts>,
    status: Option<AuctionStatus>,
    is_featured: Option<bool>,
    show_on_homepage: Option<bool>,
    featured_priority: Option<u32>,
}

fn check(b: &mut AuctionBody) -> Result<(), ApiError> {
    if let Some(v) = b.starting_bid {
        b.starting_bid = Some(validate::positive_money("startingBid", v)?);
    }
    if let Some(v) = b.reserve_price {
        b.reserve_price = Some(validate::money("reservePrice", v)?);
    }
    if let Some(v) = b.featured_priority {
        validate::at_most("featuredPriority", v, 1000)?;
    }
    for (f, v) in [("images", &b.images), ("videos", &b.videos)] {
        if let Some(v) = v {
            validate::strings(f, v, 50)?;
        }
    }
    Ok(())
}

async fn create(
    State(st): State<Shared>,
    Auth(u): Auth,
    JsonBody(mut b): JsonBody<AuctionBody>,
) -> ApiResult {
    ensure(u.sells(), "only sellers and admins can create auctions")?;
    check(&mut b)?;
    let name = validate::required("name", b.name.as_ref(), 200)?;
    let slug = slug_or_name(b.slug.as_deref(), &name)?;
    let shop_key = validate::required("shopId", b.shop_id.as_ref(), 100)?;
    let starting = b
        .starting_bid
        .ok_or_else(|| bad("startingBid", "is required"))?;
    let end = b.end_time.ok_or_else(|| bad("endTime", "is required"))?;
    let now = Ts::now();
    let start = b.start_time.unwrap_or(now);
    if end <= start {
        return Err(bad("endTime", "must be after startTime"));
    }
    if end <= now {
        return Err(bad("endTime", "must be in the future"));
    }
    let status = b.status.unwrap_or(if start <= now {
        AuctionStatus::Live
    } else {
        AuctionStatus::Scheduled
    });
    if matches!(status, AuctionStatus::Ended | AuctionStatus::Cancelled) {
        return Err(bad(
            "status",
            "a new auction must be draft, scheduled or live",
        ));
    }
    let mut s = st.lock();
    let shop_id = id_of(&s.shops, &shop_key, "shopId: shop")?;
    s.ensure_owner(
        &u,
        &shop_id,
        "sellers can only create auctions for their own shop",
    )?;
    ensure_slug_free(&s.auctions, &slug, None, "auction")?;
    if active(status) {
        ensure_room(&s, &shop_id, None)?;
    }
    let a = Auction {
        id: s.next_id("auc"),
        shop_id,
        name,
        slug,
        description: b.description.unwrap_or_default(),
        images: b.images.unwrap_or_default(),
        videos: b.videos.unwrap_or_default(),
        starting_bid: starting,
        reserve_price: b.reserve_price,
        current_bid: starting,
        bid_count: 0,
        start_time: start,
        end_time: end,
        winner_id: None,
        final_bid: None,
        status,
        is_featured: b.is_featured.unwrap_or(false),
        show_on_homepage: b.show_on_homepage.unwrap_or(false),
        featured_priority: b.featured_priority.unwrap_or(0),
        created_at: now,
        updated_at: now,
    };
    s.auctions.push(a.clone());
    created(a)
}

fn status_allowed(from: AuctionStatus, to: AuctionStatus) -> bool {
    use AuctionStatus::*;
    from == to
        || matches!(
            (from, to),
            (Draft, Scheduled | Live | Cancelled)
                | (Scheduled, Draft | Live | Cancelled)
                | (Live, Ended | Cancelled)
        )
}

async fn update(
    State(st): State<Shared>,
    Auth(u): Auth,
    Path(key): Path<String>,
    JsonBody(mut b): JsonBody<AuctionBody>,
) -> ApiResult {
    check(&mut b)?;
    let name = present(b.name.as_deref(), |n| validate::text("name", n, 200))?;
    let mut s = fresh(&st);
    let i = index(&s.auctions, &key, "auction")?;
    s.ensure_owner(
        &u,
        &s.auctions[i].shop_id,
        "only the shop's owner or an admin can update this auction",
    )?;
    if let Some(to) = b.status
        && active(to)
        && !active(s.auctions[i].status)
    {
        ensure_room(&s, &s.auctions[i].shop_id, Some(&s.auctions[i].id))?;
    }
    let winning = s
        .bids
        .iter()
        .find(|x| x.auction_id == s.auctions[i].id && x.is_winning)
        .cloned();
    let a = &mut s.auctions[i];
    if let Some(to) = b.status
        && !status_allowed(a.status, to)
    {
        return Err(bad_transition("an auction", a.status, to));
    }
    if a.bid_count > 0 && b.starting_bid.is_some() {
        return Err(bad("startingBid", "cannot change once bids exist"));
    }
    let mut next = a.clone();
    if let Some(v) = b.starting_bid {
        next.starting_bid = v;
        next.current_bid = v;
    }
    set(&mut next.name, name);
    patch_some!(next, b: reserve_price);
    patch!(
        next,
        b: description,
        images,
        videos,
        start_time,
        end_time,
        status,
        is_featured,
        show_on_homepage,
        featured_priority
    );
    if next.end_time <= next.start_time {
        return Err(bad("endTime", "must be after startTime"));
    }
    let now = Ts::now();
    if next.status == AuctionStatus::Live && a.status != AuctionStatus::Live {
        if next.end_time <= now {
            return Err(bad("endTime", "a live auction must end in the future"));
        }
        // Going live early starts the auction now.
        next.start_time = next.start_time.min(now);
    }
    if next.status == AuctionStatus::Ended && a.status != AuctionStatus::Ended {
        next.end_time = next.end_time.min(now);
        next.winner_id = winning.as_ref().map(|w| w.user_id.clone());
        next.final_bid = winning.map(|w| w.bid_amount);
    }
    next.updated_at = now;
    *a = next.clone();
    ok(next)
}

async fn bids(State(st): State<Shared>, Path(key): Path<String>, q: Params) -> ApiResult {
    let (pg, limit) = q.page()?;
    let s = fresh(&st);
    let a = lookup(&s.auctions, &key, "auction")?;
    let v: Vec<&Bid> = s
        .bids
        .iter()
        .rev()
        .filter(|b| b.auction_id == a.id)
        .collect();
    ok(page(v, pg, limit))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BidBody {
    bid_amount: Option<f64>,
    #[serde(default)]
    is_auto_bid: bool,
    max_auto_bid: Option<f64>,
}

async fn place_bid(
    State(st): State<Shared>,
    Auth(u): Auth,
    Path(key): Path<String>,
    JsonBody(b): JsonBody<BidBody>,
) -> ApiResult {
    let amount = validate::positive_money(
        "bidAmount",
        b.bid_amount
            .ok_or_else(|| bad("bidAmount", "is required"))?,
    )?;
    let max_auto = present(b.max_auto_bid, |m| validate::money("maxAutoBid", m))?;
    if let Some(m) = max_auto
        && m < amount
    {
        return Err(bad("maxAutoBid", "must not be below bidAmount"));
    }
    let now = Ts::now();
    let mut s = fresh(&st);
    let i = index(&s.auctions, &key, "auction")?;
    let a = &s.auctions[i];
    if a.status != AuctionStatus::Live {
        return Err(bad(
            "auction",
            format!(
                "bids are only accepted on live auctions (this one is {})",
                wire_name(a.status)
            ),
        ));
    }
    if a.end_time <= now {
        return Err(bad("auction", "the auction has ended"));
    }
    if s.shops
        .iter()
        .any(|sh| sh.id == a.shop_id && sh.owner_id == u.id)
    {
        return Err(forbidden("sellers cannot bid on their own auctions"));
    }
    if a.bid_count == 0 {
        if amount < a.starting_bid {
            return Err(bad(
                "bidAmount",
                format!(
                    "the first bid must be at least the starting bid {}",
                    a.starting_bid
                ),
            ));
        }
    } else if amount < a.current_bid + MIN_INCREMENT {
        return Err(bad(
            "bidAmount",
            format!(
                "must be at least {} (current bid {} + minimum increment {MIN_INCREMENT})",
                a.current_bid + MIN_INCREMENT,
                a.current_bid
            ),
        ));
    }
    let auction_id = a.id.clone();
    for old in s.bids.iter_mut().filter(|x| x.auction_id == auction_id) {
        old.is_winning = false;
    }
    let bid = Bid {
        id: s.next_id("bid"),
        auction_id,
        user_id: u.id.clone(),
        bid_amount: amount,
        bid_time: now,
        is_winning: true,
        is_auto_bid: b.is_auto_bid,
        max_auto_bid: max_auto,
    };
    s.bids.push(bid.clone());
    let a = &mut s.auctions[i];
    a.current_bid = amount;
    a.bid_count += 1;
    a.updated_at = now;
    created(bid)
}

async fn watch(
    State(st): State<Shared>,
    Auth(u): Auth,
    Path(key): Path<String>,
    JsonBody(_): JsonBody<Empty>,
) -> ApiResult {
    let mut s = fresh(&st);
    let id = id_of(&s.auctions, &key, "auction")?;
    let pair = (u.id.clone(), id.clone());
    let watching = if s.watches.contains(&pair) {
        s.watches.retain(|w| w != &pair);
        false
    } else {
        s.watches.push(pair);
        true
    };
    ok(json!({ "auctionId": id, "watching": watching }))
}
