//! The in-memory store: every collection, id generation, lookups by id or slug, and the
//! derived data the server maintains (category tree, counts, auction expiry).

use crate::error::{ApiError, conflict, ensure, not_found};
use crate::models::*;
use crate::rng::Rng;
use crate::time::Ts;
use std::collections::HashMap;

/// All marketplace data (`Clone` for `--break …=nostore`, which answers from a copy).
#[derive(Debug, Clone)]
pub struct Store {
    seq: u64,
    /// Randomness for tokens and seed data.
    pub rng: Rng,
    pub users: Vec<User>,
    /// token → user id
    pub tokens: HashMap<String, String>,
    pub addresses: Vec<Address>,
    pub shops: Vec<Shop>,
    pub categories: Vec<Category>,
    pub products: Vec<Product>,
    /// user id → cart
    pub carts: HashMap<String, Cart>,
    pub orders: Vec<Order>,
    pub coupons: Vec<Coupon>,
    pub auctions: Vec<Auction>,
    pub bids: Vec<Bid>,
    /// (user id, auction id)
    pub watches: Vec<(String, String)>,
    pub tickets: Vec<Ticket>,
    pub messages: Vec<Message>,
    pub reviews: Vec<Review>,
    pub favorites: Vec<Favorite>,
    pub returns: Vec<ReturnRequest>,
    pub blog: Vec<BlogPost>,
    pub slides: Vec<HeroSlide>,
}

/// Something addressable by id (and maybe by slug or code).
pub trait Keyed {
    /// The id.
    fn key_id(&self) -> &str;
    /// Whether `key` is this item's secondary key (slug, coupon code).
    fn matches_alt(&self, _key: &str) -> bool {
        false
    }
}

macro_rules! keyed {
    ($($t:ty),*) => { $(impl Keyed for $t { fn key_id(&self) -> &str { &self.id } })* };
}
macro_rules! keyed_slug {
    ($($t:ty),*) => { $(impl Keyed for $t {
        fn key_id(&self) -> &str { &self.id }
        fn matches_alt(&self, key: &str) -> bool { self.slug == key }
    })* };
}
keyed!(
    User,
    Address,
    Order,
    Bid,
    Ticket,
    Message,
    Review,
    Favorite,
    ReturnRequest,
    HeroSlide
);
keyed_slug!(Shop, Category, Product, Auction, BlogPost);

impl Keyed for Coupon {
    fn key_id(&self) -> &str {
        &self.id
    }
    fn matches_alt(&self, key: &str) -> bool {
        self.code.eq_ignore_ascii_case(key)
    }
}

/// Index of the item whose id is `key`, else whose slug/code is `key`.
pub fn find<T: Keyed>(items: &[T], key: &str) -> Option<usize> {
    items
        .iter()
        .position(|x| x.key_id() == key)
        .or_else(|| items.iter().position(|x| x.matches_alt(key)))
}

/// [`find`], else 404 naming `what`.
pub fn index<T: Keyed>(items: &[T], key: &str, what: &str) -> Result<usize, ApiError> {
    find(items, key).ok_or_else(|| not_found(what, key))
}

/// The item with id (or slug/code) `key`, else 404 naming `what`.
pub fn get<'a, T: Keyed>(items: &'a [T], key: &str, what: &str) -> Result<&'a T, ApiError> {
    index(items, key, what).map(|i| &items[i])
}

/// Mutable [`get`].
pub fn get_mut<'a, T: Keyed>(
    items: &'a mut [T],
    key: &str,
    what: &str,
) -> Result<&'a mut T, ApiError> {
    index(items, key, what).map(|i| &mut items[i])
}

/// The id of the item `key` names (an id, slug or code), else 404 naming `what`.
pub fn id_of<T: Keyed>(items: &[T], key: &str, what: &str) -> Result<String, ApiError> {
    get(items, key, what).map(|x| x.key_id().to_string())
}

/// [`get`], then 403 with `refusal` unless the caller is `allowed` to act on the item.
pub fn get_allowed<'a, T: Keyed>(
    items: &'a [T],
    key: &str,
    what: &str,
    allowed: impl FnOnce(&T) -> bool,
    refusal: &str,
) -> Result<&'a T, ApiError> {
    let x = get(items, key, what)?;
    ensure(allowed(x), refusal)?;
    Ok(x)
}

/// 409 when `slug` is taken. A new item (`except` = `None`) may not take any id or slug in
/// use; a renamed one (`except` = its id) may not take another item's slug.
pub fn ensure_slug_free<T: Keyed>(
    items: &[T],
    slug: &str,
    except: Option<&str>,
    what: &str,
) -> Result<(), ApiError> {
    let taken = match except {
        None => find(items, slug).is_some(),
        Some(id) => items
            .iter()
            .any(|x| x.matches_alt(slug) && x.key_id() != id),
    };
    if taken {
        return Err(conflict(format!(
            "slug: {what} slug '{slug}' is already taken"
        )));
    }
    Ok(())
}

impl Store {
    /// An empty store whose generated ids start after the seeded ones.
    pub fn empty(seed: u64) -> Store {
        Store {
            seq: 1000,
            rng: Rng::new(seed),
            users: vec![],
            tokens: HashMap::new(),
            addresses: vec![],
            shops: vec![],
            categories: vec![],
            products: vec![],
            carts: HashMap::new(),
            orders: vec![],
            coupons: vec![],
            auctions: vec![],
            bids: vec![],
            watches: vec![],
            tickets: vec![],
            messages: vec![],
            reviews: vec![],
            favorites: vec![],
            returns: vec![],
            blog: vec![],
            slides: vec![],
        }
    }

    /// A fresh id such as `prod-1001`.
    pub fn next_id(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}-{}", self.seq)
    }

    /// The user a bearer token belongs to.
    pub fn user_by_token(&self, token: &str) -> Option<&User> {
        let id = self.tokens.get(token)?;
        self.users.iter().find(|u| &u.id == id)
    }

    /// Whether `user` may manage shop `shop_id` (its owner, or an admin).
    pub fn owns_shop(&self, user: &User, shop_id: &str) -> bool {
        user.role == Role::Admin
            || self
                .shops
                .iter()
                .any(|s| s.id == shop_id && s.owner_id == user.id)
    }

    /// 403 with `refusal` unless `user` may manage shop `shop_id` (see [`Store::owns_shop`]).
    pub fn ensure_owner(&self, user: &User, shop_id: &str, refusal: &str) -> Result<(), ApiError> {
        ensure(self.owns_shop(user, shop_id), refusal)
    }

    /// Ids of the shops `user` owns.
    pub fn shops_of(&self, user_id: &str) -> Vec<String> {
        self.shops
            .iter()
            .filter(|s| s.owner_id == user_id)
            .map(|s| s.id.clone())
            .collect()
    }

    /// Ends live auctions whose end time has passed (the highest bidder wins) and starts
    /// scheduled ones whose start time has come. Called before auction reads and writes, so
    /// a long-running server never offers an expired auction as `live`.
    pub fn tick_auctions(&mut self, now: Ts) {
        for a in &mut self.auctions {
            if matches!(a.status, AuctionStatus::Scheduled) && a.start_time <= now {
                a.status = AuctionStatus::Live;
                a.updated_at = now;
            }
            if matches!(a.status, AuctionStatus::Live) && a.end_time <= now {
                a.status = AuctionStatus::Ended;
                a.updated_at = now;
                if let Some(w) = self
                    .bids
                    .iter()
                    .find(|b| b.auction_id == a.id && b.is_winning)
                {
                    a.winner_id = Some(w.user_id.clone());
                    a.final_bid = Some(w.bid_amount);
                }
            }
        }
    }

    /// Recomputes every derived field of the category tree (level, path, parents, children,
    /// counts) from the `parent_id` links. Categories are few, so recomputing everything
    /// after each change is simpler and always right.
    pub fn rebuild_categories(&mut self) {
        let links: HashMap<String, (Option<String>, String)> = self
            .categories
            .iter()
            .map(|c| (c.id.clone(), (c.parent_id.clone(), c.slug.clone())))
            .collect();
        let mut counts: HashMap<&str, u32> = HashMap::new();
        for p in &self.products {
            *counts.entry(p.category_id.as_str()).or_default() += 1;
        }
        let mut children: HashMap<String, Vec<(u32, String, String)>> = HashMap::new();
        for c in &self.categories {
            if let Some(p) = &c.parent_id {
                children.entry(p.clone()).or_default().push((
                    c.sort_order,
                    c.name.clone(),
                    c.id.clone(),
                ));
            }
        }
        let product_counts: Vec<u32> = self
            .categories
            .iter()
            .map(|c| counts.get(c.id.as_str()).copied().unwrap_or(0))
            .collect();
        for (c, count) in self.categories.iter_mut().zip(product_counts) {
            let mut chain = vec![c.slug.clone()];
            let mut cur = c.parent_id.clone();
            // The depth guard only matters if a cycle slipped in; PATCH refuses them.
            while let Some(p) = cur.filter(|_| chain.len() < 64) {
                match links.get(&p) {
                    Some((pp, slug)) => {
                        chain.push(slug.clone());
                        cur = pp.clone();
                    }
                    None => break,
                }
            }
            chain.reverse();
            c.level = (chain.len() - 1) as u32;
            c.path = format!("/{}", chain.join("/"));
            c.paths = vec![c.path.clone()];
            c.parent_ids = c.parent_id.iter().cloned().collect();
            let mut kids = children.remove(&c.id).unwrap_or_default();
            kids.sort();
            c.children_ids = kids.into_iter().map(|k| k.2).collect();
            c.child_count = c.children_ids.len() as u32;
            c.has_children = c.child_count > 0;
            c.product_count = count;
        }
    }

    /// Ids of `root` and all its descendants.
    pub fn category_subtree(&self, root: &str) -> Vec<String> {
        let mut out = vec![root.to_string()];
        let mut i = 0;
        while i < out.len() {
            let cur = out[i].clone();
            out.extend(
                self.categories
                    .iter()
                    .filter(|c| c.parent_id.as_deref() == Some(cur.as_str()))
                    .map(|c| c.id.clone()),
            );
            i += 1;
        }
        out
    }

    /// Recounts `product_count` of every shop.
    pub fn recount_shops(&mut self) {
        let mut counts: HashMap<&str, u32> = HashMap::new();
        for p in &self.products {
            *counts.entry(p.shop_id.as_str()).or_default() += 1;
        }
        let n: Vec<u32> = self
            .shops
            .iter()
            .map(|s| counts.get(s.id.as_str()).copied().unwrap_or(0))
            .collect();
        for (s, n) in self.shops.iter_mut().zip(n) {
            s.product_count = n;
        }
    }
}
