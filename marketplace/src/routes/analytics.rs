//! Seller analytics, computed from orders and products of one shop (or the whole marketplace
//! for an admin who names no shop).

use super::prelude::*;
use axum::http::header;
use axum::response::IntoResponse;
use std::collections::{HashMap, HashSet};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/analytics", get(overview))
        .route("/api/analytics/sales", get(sales))
        .route("/api/analytics/top-products", get(top_products))
        .route("/api/analytics/categories", get(categories))
        .route("/api/analytics/customers", get(customers))
        .route("/api/analytics/traffic", get(traffic))
        .route("/api/analytics/export", get(export))
}

/// The shops the request is about: `shopId` (which the caller must own), else every shop of
/// a seller, else (admin) all of them (`None`).
fn scope(s: &Store, u: &User, q: &Params) -> Result<Option<Vec<String>>, ApiError> {
    ensure(u.sells(), "analytics are for sellers and admins")?;
    match q.str("shopId") {
        Some(k) => {
            let id = id_of(&s.shops, k, "shopId: shop")?;
            s.ensure_owner(u, &id, "sellers can only see their own shop's analytics")?;
            Ok(Some(vec![id]))
        }
        None if u.is_admin() => Ok(None),
        None => Ok(Some(s.shops_of(&u.id))),
    }
}

/// (order, revenue of the in-scope lines) for orders that count as sales.
fn sales_lines<'a>(
    s: &'a Store,
    shops: &Option<Vec<String>>,
) -> Vec<(&'a Order, Vec<&'a OrderItem>)> {
    s.orders
        .iter()
        .filter(|o| !matches!(o.status, OrderStatus::Cancelled | OrderStatus::Refunded))
        .map(|o| {
            (
                o,
                o.items
                    .iter()
                    .filter(|i| shops.as_ref().is_none_or(|v| v.contains(&i.shop_id)))
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, items)| !items.is_empty())
        .collect()
}

fn revenue(items: &[&OrderItem]) -> f64 {
    items.iter().map(|i| i.total).sum()
}

fn products_in<'a>(s: &'a Store, shops: &Option<Vec<String>>) -> Vec<&'a Product> {
    s.products
        .iter()
        .filter(|p| shops.as_ref().is_none_or(|v| v.contains(&p.shop_id)))
        .collect()
}

fn r2(v: f64) -> f64 {
    validate::round2(v)
}

async fn overview(State(st): State<Shared>, Auth(u): Auth, q: Params) -> ApiResult {
    let s = st.lock();
    let shops = scope(&s, &u, &q)?;
    let lines = sales_lines(&s, &shops);
    let now = Ts::now();
    let total: f64 = lines.iter().map(|(_, i)| revenue(i)).sum();
    let n = lines.len();
    let customers: HashSet<&str> = lines.iter().map(|(o, _)| o.customer_id.as_str()).collect();
    let views: u64 = products_in(&s, &shops).iter().map(|p| p.view_count).sum();
    let window = |from: i64, to: i64| {
        lines
            .iter()
            .filter(|(o, _)| {
                o.created_at >= now.plus_days(-from) && o.created_at < now.plus_days(-to)
            })
            .fold((0.0, 0usize), |(r, c), (_, i)| (r + revenue(i), c + 1))
    };
    let (cur_r, cur_n) = window(30, 0);
    let (prev_r, prev_n) = window(60, 30);
    let growth = |c: f64, p: f64| {
        if p == 0.0 {
            if c > 0.0 { 100.0 } else { 0.0 }
        } else {
            r2((c - p) / p * 100.0)
        }
    };
    ok(json!({
        "shopId": q.str("shopId"),
        "totalRevenue": r2(total),
        "totalOrders": n,
        "totalProducts": products_in(&s, &shops).len(),
        "totalCustomers": customers.len(),
        "averageOrderValue": if n == 0 { 0.0 } else { r2(total / n as f64) },
        "conversionRate": if views == 0 { 0.0 } else { r2(n as f64 / views as f64 * 100.0) },
        "revenueGrowth": growth(cur_r, prev_r),
        "ordersGrowth": growth(cur_n as f64, prev_n as f64),
        "totalViews": views,
    }))
}

/// Bucket length in days and bucket count for a `period`.
fn period(q: &Params) -> Result<(i64, i64), ApiError> {
    match q.str("period").unwrap_or("day") {
        "day" => Ok((1, 7)),
        "week" => Ok((7, 8)),
        "month" => Ok((30, 12)),
        "year" => Ok((365, 5)),
        o => Err(bad(
            "period",
            format!("expected day, week, month or year, got '{o}'"),
        )),
    }
}

fn sales_rows(s: &Store, shops: &Option<Vec<String>>, days: i64, buckets: i64) -> Vec<Value> {
    let lines = sales_lines(s, shops);
    let today = Ts(Ts::now().0.div_euclid(86_400_000) * 86_400_000).plus_days(1);
    (0..buckets)
        .rev()
        .map(|k| {
            let end = today.plus_days(-k * days);
            let start = end.plus_days(-days);
            let inside: Vec<_> = lines
                .iter()
                .filter(|(o, _)| o.created_at >= start && o.created_at < end)
                .collect();
            let customers: HashSet<&str> =
                inside.iter().map(|(o, _)| o.customer_id.as_str()).collect();
            json!({
                "date": start.date(),
                "revenue": r2(inside.iter().map(|(_, i)| revenue(i)).sum()),
                "orders": inside.len(),
                "customers": customers.len(),
            })
        })
        .collect()
}

async fn sales(State(st): State<Shared>, Auth(u): Auth, q: Params) -> ApiResult {
    let (days, buckets) = period(&q)?;
    let s = st.lock();
    let shops = scope(&s, &u, &q)?;
    ok(sales_rows(&s, &shops, days, buckets))
}

async fn top_products(State(st): State<Shared>, Auth(u): Auth, q: Params) -> ApiResult {
    let limit = q.int("limit", 1, 100)?.unwrap_or(10) as usize;
    let s = st.lock();
    let shops = scope(&s, &u, &q)?;
    let mut agg: HashMap<&str, (u64, f64)> = HashMap::new();
    for (_, items) in sales_lines(&s, &shops) {
        for i in items {
            let e = agg.entry(i.product_id.as_str()).or_default();
            e.0 += u64::from(i.quantity);
            e.1 += i.total;
        }
    }
    let mut rows: Vec<Value> = products_in(&s, &shops)
        .iter()
        .map(|p| {
            let (sales, rev) = agg.get(p.id.as_str()).copied().unwrap_or_default();
            json!({ "productId": p.id, "productName": p.name, "sales": sales, "revenue": r2(rev), "views": p.view_count })
        })
        .collect();
    sort(&mut rows, true, |r| {
        (
            r["revenue"].as_f64().unwrap_or(0.0),
            r["sales"].as_u64().unwrap_or(0),
        )
    });
    rows.truncate(limit);
    ok(rows)
}

async fn categories(State(st): State<Shared>, Auth(u): Auth, q: Params) -> ApiResult {
    let s = st.lock();
    let shops = scope(&s, &u, &q)?;
    let products = products_in(&s, &shops);
    let cat_of: HashMap<&str, &str> = s
        .products
        .iter()
        .map(|p| (p.id.as_str(), p.category_id.as_str()))
        .collect();
    let mut agg: HashMap<&str, (f64, HashSet<&str>)> = HashMap::new();
    for (o, items) in sales_lines(&s, &shops) {
        for i in items {
            if let Some(c) = cat_of.get(i.product_id.as_str()) {
                let e = agg.entry(c).or_default();
                e.0 += i.total;
                e.1.insert(o.id.as_str());
            }
        }
    }
    let mut rows: Vec<Value> = s
        .categories
        .iter()
        .filter(|c| products.iter().any(|p| p.category_id == c.id))
        .map(|c| {
            let (rev, orders) = agg.remove(c.id.as_str()).unwrap_or_default();
            json!({
                "categoryId": c.id, "categoryName": c.name, "revenue": r2(rev), "orders": orders.len(),
                "products": products.iter().filter(|p| p.category_id == c.id).count(),
            })
        })
        .collect();
    sort(&mut rows, true, |r| r["revenue"].as_f64().unwrap_or(0.0));
    ok(rows)
}

async fn customers(State(st): State<Shared>, Auth(u): Auth, q: Params) -> ApiResult {
    let s = st.lock();
    let shops = scope(&s, &u, &q)?;
    let mut per: HashMap<&str, (usize, f64)> = HashMap::new();
    for (o, items) in sales_lines(&s, &shops) {
        let e = per.entry(o.customer_id.as_str()).or_default();
        e.0 += 1;
        e.1 += revenue(&items);
    }
    let mut top: Vec<Value> = per
        .iter()
        .map(|(id, (n, r))| json!({ "customerId": id, "orders": n, "totalSpent": r2(*r) }))
        .collect();
    sort(&mut top, true, |r| r["totalSpent"].as_f64().unwrap_or(0.0));
    top.truncate(10);
    ok(json!({
        "totalCustomers": per.len(),
        "newCustomers": per.values().filter(|(n, _)| *n == 1).count(),
        "returningCustomers": per.values().filter(|(n, _)| *n > 1).count(),
        "topCustomers": top,
    }))
}

async fn traffic(State(st): State<Shared>, Auth(u): Auth, q: Params) -> ApiResult {
    let s = st.lock();
    let shops = scope(&s, &u, &q)?;
    let products = products_in(&s, &shops);
    let views: u64 = products.iter().map(|p| p.view_count).sum();
    let mut by_product: Vec<Value> = products
        .iter()
        .map(|p| json!({ "productId": p.id, "views": p.view_count }))
        .collect();
    sort(&mut by_product, true, |r| r["views"].as_u64().unwrap_or(0));
    by_product.truncate(10);
    ok(json!({ "totalViews": views, "productViews": by_product }))
}

/// CSV of the sales rows (served under `/api/analytics/export`).
async fn export(State(st): State<Shared>, Auth(u): Auth, q: Params) -> ApiResult {
    if let Some(f) = q.str("format")
        && f != "csv"
    {
        return Err(bad("format", "only csv is supported"));
    }
    let (days, buckets) = period(&q)?;
    let s = st.lock();
    let shops = scope(&s, &u, &q)?;
    let mut csv = String::from("date,revenue,orders,customers\n");
    for r in sales_rows(&s, &shops, days, buckets) {
        csv.push_str(&format!(
            "{},{},{},{}\n",
            r["date"].as_str().unwrap_or(""),
            r["revenue"],
            r["orders"],
            r["customers"]
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"sales.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}
