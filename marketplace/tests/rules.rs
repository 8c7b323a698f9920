//! Business rules: for each, an allowed case and a refused one (status + error JSON).

mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn auth_401_and_register() {
    let api = Api::start().await;
    api.get("/api/cart", None)
        .await
        .refused(401, "authentication required");
    api.get("/api/products", Some("nope"))
        .await
        .refused(401, "token");
    api.raw("GET", "/api/cart", None, None)
        .await
        .refused(401, "Bearer");
    let t = api.register("seller").await;
    let me = api.get("/api/user/profile", Some(&t)).await.answers(200);
    assert_eq!(me["user"]["role"], "seller");
    let t2 = api.register("seller").await;
    assert_ne!(t, t2, "each registration gets its own token");
    api.call(
        "POST",
        "/api/auth/register",
        None,
        Some(json!({"role": "wizard"})),
    )
    .await
    .refused(400, "role");
    // A fresh seller has no shop and can create one.
    let shop = api
        .post("/api/shops", &t, json!({"name": "Fresh Shop"}))
        .await
        .answers(201);
    assert_eq!(shop["ownerId"], me["user"]["id"]);
    assert_eq!(shop["slug"], "fresh-shop");
}

#[tokio::test]
async fn roles_403() {
    let api = Api::start().await;
    let body = json!({"shopId": "test-shop-001", "categoryId": "cat-electronics", "name": "X", "price": 10});
    api.post("/api/products", CUSTOMER, body.clone())
        .await
        .refused(403, "sellers");
    api.post("/api/products", SELLER2, body.clone())
        .await
        .refused(403, "own shop");
    api.post("/api/products", SELLER, body).await.answers(201);
    api.patch("/api/products/prod-001", SELLER2, json!({"price": 1}))
        .await
        .refused(403, "owner");
    api.patch("/api/products/prod-001", SELLER, json!({"price": 1}))
        .await
        .answers(200);
    api.get("/api/admin/hero-slides", Some(CUSTOMER))
        .await
        .refused(403, "admin");
    api.get("/api/admin/hero-slides", Some(ADMIN))
        .await
        .answers(200);
    api.get("/api/analytics?shopId=test-shop-001", Some(SELLER2))
        .await
        .refused(403, "own shop");
    api.post("/api/categories", SELLER, json!({"name": "C"}))
        .await
        .refused(403, "admin");
}

#[tokio::test]
async fn unknown_ids_404() {
    let api = Api::start().await;
    for p in [
        "/api/products/nope",
        "/api/categories/nope",
        "/api/shops/nope",
        "/api/auctions/nope",
        "/api/coupons/NOPE",
        "/api/reviews/nope",
        "/api/blog/nope",
    ] {
        api.get(p, Some(ADMIN)).await.refused(404, "not found");
    }
    for p in [
        "/api/orders/nope",
        "/api/returns/nope",
        "/api/support/tickets/nope",
        "/api/admin/hero-slides/nope",
    ] {
        api.get(p, Some(ADMIN))
            .await
            .refused(404, "'nope' not found");
    }
    api.post("/api/cart", CUSTOMER, json!({"productId": "nope"}))
        .await
        .refused(404, "productId");
    api.get("/api/no/such/route", None)
        .await
        .refused(404, "no such route");
}

#[tokio::test]
async fn id_or_slug_resolution() {
    let api = Api::start().await;
    let by_id = api.get("/api/products/prod-001", None).await.answers(200);
    let by_slug = api
        .get(
            &format!("/api/products/{}", by_id["slug"].as_str().unwrap()),
            None,
        )
        .await
        .answers(200);
    assert_eq!(by_slug["id"], "prod-001");
    assert_eq!(
        api.get("/api/categories/electronics", None)
            .await
            .answers(200)["data"]["id"],
        "cat-electronics"
    );
    assert_eq!(
        api.get("/api/categories/cat-electronics", None)
            .await
            .answers(200)["success"],
        true
    );
    assert_eq!(
        api.get("/api/shops/tech-haven", None).await.answers(200)["id"],
        "test-shop-001"
    );
    assert_eq!(
        api.get("/api/shops/test-shop-001", None).await.answers(200)["ownerId"],
        "test-seller-001"
    );
    assert_eq!(
        api.get("/api/coupons/test10", None).await.answers(200)["id"],
        "cpn-001"
    );
    assert_eq!(
        api.get("/api/coupons/cpn-001", None).await.answers(200)["code"],
        "TEST10"
    );
    assert_eq!(
        api.get("/api/auctions/vintage-film-camera", None)
            .await
            .answers(200)["id"],
        "auc-001"
    );
}

#[tokio::test]
async fn order_transitions() {
    let api = Api::start().await;
    let p = "/api/orders/ord-001";
    assert_eq!(
        api.get(p, Some(SELLER)).await.answers(200)["status"],
        "pending"
    );
    for (token, to, status, needle) in [
        (SELLER, "shipped", 400, "from pending to shipped"),
        (CUSTOMER, "confirmed", 403, "cancel"),
        (SELLER2, "confirmed", 403, "another customer"),
    ] {
        let got = api.patch(p, token, json!({ "status": to })).await;
        got.refused(status, needle);
    }
    assert_eq!(
        api.patch(p, SELLER, json!({"status": "confirmed", "notes": "ok"}))
            .await
            .answers(200)["status"],
        "confirmed"
    );
    assert_eq!(
        api.patch(p, SELLER, json!({"status": "processing"}))
            .await
            .answers(200)["status"],
        "processing"
    );
    let shipped = api.post(&format!("{p}/shipment"), SELLER, json!({"carrier": "BlueDart", "tracking_number": "TRK-1", "eta": "2030-01-01T00:00:00.000Z"})).await.answers(200);
    assert_eq!(shipped["status"], "shipped");
    assert_eq!(shipped["trackingNumber"], "TRK-1");
    assert_eq!(
        api.get(&format!("{p}/track"), Some(CUSTOMER))
            .await
            .answers(200)["status"],
        "in_transit"
    );
    api.patch(p, SELLER, json!({"status": "cancelled"}))
        .await
        .refused(400, "from shipped to cancelled");
    // Asking for the current status again is a no-op, not a refused transition.
    let again = api
        .patch(p, SELLER, json!({"status": "shipped"}))
        .await
        .answers(200);
    assert_eq!(again["status"], "shipped");
    assert_eq!(again["trackingNumber"], "TRK-1");
    assert_eq!(
        api.patch(p, SELLER, json!({"status": "delivered"}))
            .await
            .answers(200)["status"],
        "delivered"
    );
    api.patch(p, SELLER, json!({"status": "pending"}))
        .await
        .refused(400, "from delivered to pending");
    api.patch(p, SELLER, json!({"status": "teleported"}))
        .await
        .refused(400, "status");
    assert_eq!(
        api.patch(p, ADMIN, json!({"status": "refunded"}))
            .await
            .answers(200)["paymentStatus"],
        "refunded"
    );
    // Shipment straight from confirmed; the customer may cancel a pending order.
    let q = "/api/orders/ord-002";
    api.patch(q, SELLER, json!({"status": "confirmed"}))
        .await
        .answers(200);
    assert_eq!(
        api.post(
            &format!("{q}/shipment"),
            SELLER,
            json!({"carrier": "X", "tracking_number": "T"})
        )
        .await
        .answers(200)["status"],
        "shipped"
    );
    api.post(
        "/api/orders/ord-005/shipment",
        SELLER,
        json!({"carrier": "X", "tracking_number": "T"}),
    )
    .await
    .refused(400, "confirmed or processing");
    assert_eq!(
        api.patch(
            "/api/orders/ord-005",
            CUSTOMER,
            json!({"status": "cancelled"})
        )
        .await
        .answers(200)["status"],
        "cancelled"
    );
}

#[tokio::test]
async fn bid_rule() {
    let api = Api::start().await;
    let a = api.get("/api/auctions/auc-001", None).await.answers(200);
    let start = a["startingBid"].as_f64().unwrap();
    assert_eq!(a["bidCount"], 0);
    api.post(
        "/api/auctions/auc-001/bid",
        BIDDER,
        json!({"bidAmount": start - 1.0}),
    )
    .await
    .refused(400, "starting bid");
    let first = api
        .post(
            "/api/auctions/auc-001/bid",
            BIDDER,
            json!({"bidAmount": start}),
        )
        .await
        .answers(201);
    assert_eq!(first["isWinning"], true);
    api.post(
        "/api/auctions/auc-001/bid",
        CUSTOMER,
        json!({"bidAmount": start + 50.0}),
    )
    .await
    .refused(400, "minimum increment");
    api.post(
        "/api/auctions/auc-001/bid",
        CUSTOMER,
        json!({"bidAmount": start + 100.0}),
    )
    .await
    .answers(201);
    let a = api.get("/api/auctions/auc-001", None).await.answers(200);
    assert_eq!(a["currentBid"].as_f64(), Some(start + 100.0));
    assert_eq!(a["bidCount"], 2);
    let hist = api
        .get("/api/auctions/auc-001/bid?page=1&limit=10", None)
        .await
        .answers(200);
    let bids = hist["data"].as_array().unwrap();
    assert_eq!(bids.len(), 2);
    assert_eq!(bids.iter().filter(|b| b["isWinning"] == true).count(), 1);
    assert_eq!(bids[0]["userId"], "test-customer-001");
    let mine = api
        .get("/api/auctions/my-bids", Some(BIDDER))
        .await
        .answers(200);
    assert_eq!(
        mine[0]["isWinning"], false,
        "the outbid bid is no longer winning"
    );
    for (auction, token, amount, status, needle) in [
        ("auc-009", BIDDER, 99999, 400, "live auctions"),
        ("auc-008", BIDDER, 99999, 400, "scheduled"),
        ("auc-003", SELLER, 99999, 403, "own auctions"),
        ("auc-003", BIDDER, -5, 400, "bidAmount"),
    ] {
        let path = format!("/api/auctions/{auction}/bid");
        let got = api.post(&path, token, json!({ "bidAmount": amount })).await;
        got.refused(status, needle);
    }
    let won = api
        .get("/api/auctions/won", Some(BIDDER))
        .await
        .answers(200);
    assert_eq!(won[0]["id"], "auc-009");
}

#[tokio::test]
async fn auction_create_and_lifecycle() {
    let api = Api::start().await;
    let body = json!({"shopId": "test-shop-001", "name": "Lamp - Auction", "startingBid": 2099.3, "endTime": "2099-01-01T00:00:00.000Z", "startTime": "2098-12-25T00:00:00Z", "status": "scheduled"});
    let a = api
        .post("/api/auctions", SELLER, body.clone())
        .await
        .answers(201);
    assert_eq!(a["currentBid"], a["startingBid"]);
    assert_eq!(a["status"], "scheduled");
    api.post("/api/auctions", SELLER, body)
        .await
        .refused(409, "slug");
    let id = a["id"].as_str().unwrap();
    assert_eq!(
        api.patch(
            &format!("/api/auctions/{id}"),
            SELLER,
            json!({"status": "live"})
        )
        .await
        .answers(200)["status"],
        "live"
    );
    api.patch(
        &format!("/api/auctions/{id}"),
        SELLER,
        json!({"status": "draft"}),
    )
    .await
    .refused(400, "from live to draft");
    api.post("/api/auctions", SELLER, json!({"shopId": "test-shop-001", "name": "Past", "startingBid": 1, "endTime": "2001-01-01T00:00:00Z"})).await.refused(400, "endTime");
}

#[tokio::test]
async fn watch_toggles() {
    let api = Api::start().await;
    let t = api.register("bidder").await;
    assert_eq!(
        api.post("/api/auctions/auc-002/watch", &t, json!({}))
            .await
            .answers(200)["watching"],
        true
    );
    assert_eq!(
        api.get("/api/auctions/watchlist", Some(&t))
            .await
            .answers(200)[0]["id"],
        "auc-002"
    );
    assert_eq!(
        api.post("/api/auctions/auc-002/watch", &t, json!({}))
            .await
            .answers(200)["watching"],
        false
    );
    assert_eq!(
        api.get("/api/auctions/watchlist", Some(&t))
            .await
            .answers(200),
        json!([])
    );
    api.post("/api/auctions/nope/watch", &t, json!({}))
        .await
        .refused(404, "auction");
}

#[tokio::test]
async fn coupon_application_and_totals() {
    let api = Api::start().await;
    let t = api.register("customer").await;
    let price = api.get("/api/products/prod-005", None).await.answers(200)["price"]
        .as_f64()
        .unwrap();
    assert_eq!(price, 499.0);
    api.add_to_cart(&t, "prod-005", 1).await;
    let cart = api.get("/api/cart", Some(&t)).await.answers(200);
    assert_eq!(
        (
            cart["subtotal"].as_f64(),
            cart["shipping"].as_f64(),
            cart["tax"].as_f64(),
            cart["total"].as_f64()
        ),
        (Some(499.0), Some(100.0), Some(89.82), Some(688.82))
    );
    for (code, status, needle) in [
        ("EXPIRED5", 400, "expired"),
        ("FUTURE15", 400, "not valid before"),
        ("LIMITED1", 400, "used-up"),
        ("SELLER20", 400, "minimum purchase"),
        ("NOPE99", 404, "code"),
    ] {
        let got = api
            .post("/api/cart/coupon", &t, json!({ "code": code }))
            .await;
        got.refused(status, needle);
    }
    let c = api
        .post("/api/cart/coupon", &t, json!({"code": "test10"}))
        .await
        .answers(200);
    assert_eq!(c["couponCode"], "TEST10");
    assert_eq!(
        (
            c["discount"].as_f64(),
            c["tax"].as_f64(),
            c["total"].as_f64()
        ),
        (Some(49.9), Some(80.84), Some(629.94))
    );
    // Flat capped by nothing here (min 500): 998 - 100.
    api.add_to_cart(&t, "prod-005", 1).await;
    let c = api
        .post("/api/cart/coupon", &t, json!({"code": "FLAT100"}))
        .await
        .answers(200);
    assert_eq!(
        (c["subtotal"].as_f64(), c["discount"].as_f64()),
        (Some(998.0), Some(100.0))
    );
    // Percentage capped by maxDiscountAmount; free shipping above 5000.
    api.delete("/api/cart", &t).await.answers(200);
    api.add_to_cart(&t, "prod-002", 10).await;
    let c = api
        .post("/api/cart/coupon", &t, json!({"code": "TEST10"}))
        .await
        .answers(200);
    assert_eq!(
        (c["discount"].as_f64(), c["shipping"].as_f64()),
        (Some(500.0), Some(0.0))
    );
    let v = api
        .post(
            "/api/coupons/validate",
            &t,
            json!({"code": "flat100", "cartTotal": 50}),
        )
        .await
        .answers(200);
    assert_eq!(v["valid"], false);
    let v = api.post("/api/coupons/validate", &t, json!({"code": "FLAT100", "cartTotal": 1200, "items": [{"productId": "x", "quantity": 1, "price": 1200}]})).await.answers(200);
    assert_eq!(
        (v["valid"].clone(), v["discount"].as_f64()),
        (json!(true), Some(100.0))
    );
}

fn order_body(product: &str, qty: u32, coupon: Option<&str>) -> serde_json::Value {
    let addr = json!({"name": "Test Customer", "phone": "+919876543210", "line1": "123 Test Street", "line2": "Apt 4B", "city": "Mumbai", "state": "Maharashtra", "pincode": "400001", "country": "India"});
    json!({"items": [{"productId": product, "quantity": qty, "variant": null}], "shippingAddress": addr, "billingAddress": addr, "paymentMethod": "cod", "couponCode": coupon, "customerNotes": "test"})
}

#[tokio::test]
async fn orders_apply_coupon_and_decrement_stock() {
    let api = Api::start().await;
    let t = api.register("customer").await;
    let stock = |v: &serde_json::Value| v["stockCount"].as_u64().unwrap();
    let before = stock(&api.get("/api/products/prod-003", None).await.answers(200));
    let o = api
        .post("/api/orders", &t, order_body("prod-003", 2, Some("test10")))
        .await
        .answers(201);
    assert_eq!(o["status"], "pending");
    assert_eq!(o["couponCode"], "TEST10");
    let sub = o["subtotal"].as_f64().unwrap();
    assert_eq!(
        o["discount"].as_f64(),
        Some(((sub * 0.1).min(500.0) * 100.0).round() / 100.0)
    );
    assert!(o["orderNumber"].as_str().unwrap().starts_with("ORD-"));
    assert_eq!(
        stock(&api.get("/api/products/prod-003", None).await.answers(200)),
        before - 2
    );
    assert_eq!(
        api.get("/api/coupons/TEST10", None).await.answers(200)["usageCount"],
        1
    );
    assert_eq!(
        api.get(
            &format!("/api/orders/{}", o["id"].as_str().unwrap()),
            Some(&t)
        )
        .await
        .answers(200)["status"],
        "pending"
    );
    api.get(
        &format!("/api/orders/{}", o["id"].as_str().unwrap()),
        Some(CUSTOMER2),
    )
    .await
    .refused(403, "another customer");
    // Refused: too many, or a bad coupon; neither changes the stock.
    let now = before - 2;
    for (qty, coupon, needle) in [
        ((now + 1) as u32, None, "insufficient stock"),
        (1, Some("EXPIRED5"), "couponCode"),
        (0, None, "items[0].quantity"),
    ] {
        let got = api
            .post("/api/orders", &t, order_body("prod-003", qty, coupon))
            .await;
        got.refused(400, needle);
    }
    assert_eq!(
        stock(&api.get("/api/products/prod-003", None).await.answers(200)),
        now
    );
    // Cancelling restores the stock.
    api.patch(
        &format!("/api/orders/{}", o["id"].as_str().unwrap()),
        &t,
        json!({"status": "cancelled"}),
    )
    .await
    .answers(200);
    assert_eq!(
        stock(&api.get("/api/products/prod-003", None).await.answers(200)),
        before
    );
    // Selling out takes the product off the published list.
    let o = api
        .post(
            "/api/orders",
            &t,
            order_body("prod-003", before as u32, None),
        )
        .await
        .answers(201);
    assert_eq!(
        api.get("/api/products/prod-003", None).await.answers(200)["status"],
        "out-of-stock"
    );
    api.post("/api/cart", &t, json!({"productId": "prod-003"}))
        .await
        .refused(400, "not available");
    let _ = o;
}

#[tokio::test]
async fn cart_stock_and_variants() {
    let api = Api::start().await;
    let t = api.register("customer").await;
    let p = api.get("/api/products/prod-002", None).await.answers(200);
    let item = api
        .post(
            "/api/cart",
            &t,
            json!({"productId": "prod-002", "quantity": 1, "variant": "128GB"}),
        )
        .await
        .answers(201);
    assert_eq!(
        item["price"].as_f64(),
        Some(p["price"].as_f64().unwrap() + 2000.0)
    );
    for (body, needle) in [
        (
            json!({"productId": "prod-002", "variant": "1TB"}),
            "variant",
        ),
        (
            json!({"productId": "prod-002", "quantity": 10000}),
            "insufficient stock",
        ),
    ] {
        api.post("/api/cart", &t, body).await.refused(400, needle);
    }
    let again = api
        .post(
            "/api/cart",
            &t,
            json!({"productId": "prod-002", "quantity": 1, "variant": "128GB"}),
        )
        .await
        .answers(201);
    assert_eq!(
        (again["id"].clone(), again["quantity"].clone()),
        (item["id"].clone(), json!(2))
    );
}

#[tokio::test]
async fn one_review_per_user_and_helpful_once() {
    let api = Api::start().await;
    let t = api.register("customer").await;
    let body = json!({"productId": "prod-008", "rating": 5, "title": "Nice", "comment": "Lovely mugs", "media": []});
    let r = api
        .post("/api/reviews", &t, body.clone())
        .await
        .answers(201);
    assert_eq!(r["isApproved"], false);
    api.post("/api/reviews", &t, body)
        .await
        .refused(409, "already reviewed");
    assert_eq!(
        api.get("/api/reviews/can-review?productId=prod-008", Some(&t))
            .await
            .answers(200)["canReview"],
        false
    );
    for rating in [json!(6), json!(4.5)] {
        let body = json!({"productId": "prod-009", "rating": rating, "comment": "x"});
        api.post("/api/reviews", &t, body)
            .await
            .refused(400, "rating");
    }
    let id = r["id"].as_str().unwrap();
    api.patch(
        &format!("/api/reviews/{id}/moderate"),
        &t,
        json!({"isApproved": true}),
    )
    .await
    .refused(403, "moderate");
    api.patch(
        &format!("/api/reviews/{id}/moderate"),
        ADMIN,
        json!({"isApproved": true, "moderationNotes": "ok"}),
    )
    .await
    .answers(200);
    let s = api
        .get("/api/reviews/summary?productId=prod-008", None)
        .await
        .answers(200);
    assert_eq!(
        (s["totalReviews"].clone(), s["averageRating"].as_f64()),
        (json!(1), Some(5.0))
    );
    assert_eq!(
        api.post(&format!("/api/reviews/{id}/helpful"), CUSTOMER, json!({}))
            .await
            .answers(200)["helpfulCount"],
        1
    );
    api.post(&format!("/api/reviews/{id}/helpful"), CUSTOMER, json!({}))
        .await
        .refused(409, "already marked");
    let pending = api
        .get(
            "/api/reviews?isApproved=false&limit=15&sortBy=createdAt&sortOrder=desc",
            Some(ADMIN),
        )
        .await
        .answers(200);
    for r in pending["data"].as_array().unwrap() {
        let n = r["rating"].as_u64().unwrap();
        assert!((1..=5).contains(&n) && r["comment"].is_string());
    }
}

fn category_body(name: &str, parent: Option<&str>) -> serde_json::Value {
    json!({"name": name, "parentId": parent, "sortOrder": 1, "isActive": true, "showOnHomepage": true, "commissionRate": 10})
}

/// Creates a category as the admin; asserts 201 and returns it.
async fn new_category(api: &Api, name: &str, parent: Option<&str>) -> serde_json::Value {
    let body = category_body(name, parent);
    api.post("/api/categories", ADMIN, body).await.answers(201)["data"].clone()
}

/// `GET /api/categories/{id}`; asserts 200 and returns the category.
async fn category(api: &Api, id: &str) -> serde_json::Value {
    let path = format!("/api/categories/{id}");
    api.get(&path, None).await.answers(200)["data"].clone()
}

#[tokio::test]
async fn category_tree_fields() {
    let api = Api::start().await;
    let parent = new_category(&api, "Tree Root", None).await;
    let pid = parent["id"].as_str().unwrap();
    let c1 = new_category(&api, "Tree Child One", Some(pid)).await;
    let c2 = new_category(&api, "Tree Child Two", Some(pid)).await;
    let c1id = c1["id"].as_str().unwrap();
    let g = new_category(&api, "Tree Grandchild", Some(c1id)).await;
    let p = category(&api, pid).await;
    assert_eq!(
        (
            p["level"].clone(),
            p["hasChildren"].clone(),
            p["childCount"].clone()
        ),
        (json!(0), json!(true), json!(2))
    );
    assert_eq!(
        (c1["level"].clone(), c1["parentId"].clone()),
        (json!(1), json!(pid))
    );
    assert_eq!(
        (g["level"].clone(), g["parentId"].clone()),
        (json!(2), json!(c1id))
    );
    assert!(
        c1["path"]
            .as_str()
            .unwrap()
            .starts_with(p["path"].as_str().unwrap())
    );
    assert!(
        g["path"]
            .as_str()
            .unwrap()
            .starts_with(c1["path"].as_str().unwrap())
    );
    // Re-parenting keeps every derived field right.
    let c2id = c2["id"].as_str().unwrap();
    let moved = api
        .patch(
            &format!("/api/categories/{c2id}"),
            ADMIN,
            json!({"parentId": c1id}),
        )
        .await
        .answers(200)["data"]
        .clone();
    assert_eq!(moved["level"], 2);
    let p = category(&api, pid).await;
    assert_eq!(p["childCount"], 1);
    let c1 = category(&api, c1id).await;
    assert_eq!(c1["childCount"], 2);
    api.patch(
        &format!("/api/categories/{pid}"),
        ADMIN,
        json!({"parentId": g["id"]}),
    )
    .await
    .refused(400, "parentId");
    api.post("/api/categories", ADMIN, category_body("Tree Root", None))
        .await
        .refused(409, "slug");
    api.post(
        "/api/categories",
        ADMIN,
        category_body("Orphan", Some("nope")),
    )
    .await
    .refused(404, "parentId");
    let root = api
        .patch(
            &format!("/api/categories/{c2id}"),
            ADMIN,
            json!({"parentId": null}),
        )
        .await
        .answers(200)["data"]
        .clone();
    assert_eq!(
        (root["level"].clone(), root["path"].clone()),
        (json!(0), json!("/tree-child-two"))
    );
}

#[tokio::test]
async fn returns_state_machine() {
    let api = Api::start().await;
    let r = |id: &str| format!("/api/returns/{id}");
    let list = api
        .get(
            "/api/returns?shopId=test-shop-001&status=requested&limit=10",
            Some(SELLER),
        )
        .await
        .answers(200);
    assert!(list["data"].as_array().unwrap().len() >= 3);
    api.post(
        &format!("{}/refund", r("ret-001")),
        SELLER,
        json!({"refundAmount": 1000, "refundMethod": "original_payment_method"}),
    )
    .await
    .refused(400, "received");
    assert_eq!(
        api.post(
            &format!("{}/approve", r("ret-001")),
            SELLER,
            json!({"approved": true, "notes": "ok"})
        )
        .await
        .answers(200)["status"],
        "approved"
    );
    api.patch(&r("ret-001"), SELLER, json!({"status": "completed"}))
        .await
        .refused(400, "from approved to completed");
    assert_eq!(
        api.patch(
            &r("ret-001"),
            SELLER,
            json!({"status": "item-received", "adminNotes": "got it"})
        )
        .await
        .answers(200)["status"],
        "item-received"
    );
    api.post(
        &format!("{}/refund", r("ret-001")),
        SELLER,
        json!({"refundAmount": 0, "refundMethod": "x"}),
    )
    .await
    .refused(400, "refundAmount");
    let done = api.post(&format!("{}/refund", r("ret-001")), SELLER, json!({"refundAmount": 1000, "refundMethod": "original_payment_method", "refundTransactionId": "TXN_1"})).await.answers(200);
    assert_eq!(
        (done["status"].clone(), done["refundAmount"].as_f64()),
        (json!("refund-processed"), Some(1000.0))
    );
    assert_eq!(
        api.patch(&r("ret-001"), SELLER, json!({"status": "completed"}))
            .await
            .answers(200)["status"],
        "completed"
    );
    // Rejection, then only an admin may override it.
    assert_eq!(
        api.post(
            &format!("{}/approve", r("ret-002")),
            SELLER,
            json!({"approved": false, "notes": "no"})
        )
        .await
        .answers(200)["status"],
        "rejected"
    );
    api.post(
        &format!("{}/approve", r("ret-002")),
        SELLER,
        json!({"approved": true}),
    )
    .await
    .refused(400, "admin");
    assert_eq!(
        api.post(
            &format!("{}/approve", r("ret-002")),
            ADMIN,
            json!({"approved": true})
        )
        .await
        .answers(200)["status"],
        "approved"
    );
    // Admin resolves a dispute with a partial refund; sellers cannot.
    api.post(
        &format!("{}/resolve", r("ret-003")),
        SELLER,
        json!({"resolution": "partial_refund", "refundAmount": 750}),
    )
    .await
    .refused(403, "admin");
    api.post(
        &format!("{}/resolve", r("ret-003")),
        ADMIN,
        json!({"resolution": "partial_refund"}),
    )
    .await
    .refused(400, "refundAmount");
    let res = api
        .post(
            &format!("{}/resolve", r("ret-003")),
            ADMIN,
            json!({"resolution": "partial_refund", "refundAmount": 750, "notes": "split"}),
        )
        .await
        .answers(200);
    assert_eq!(
        (
            res["refundAmount"].as_f64(),
            res["requiresAdminIntervention"].clone(),
            res["resolution"].clone()
        ),
        (Some(750.0), json!(false), json!("partial_refund"))
    );
    api.post(
        &format!("{}/approve", r("ret-001")),
        SELLER2,
        json!({"approved": true}),
    )
    .await
    .refused(403, "seller");
    let stats = api
        .get("/api/returns/stats?shopId=test-shop-001", Some(SELLER))
        .await
        .answers(200);
    for k in [
        "total",
        "pending",
        "approved",
        "rejected",
        "completed",
        "totalRefundAmount",
        "adminIntervention",
        "averageRefundAmount",
    ] {
        assert!(stats[k].is_number(), "{k} in {stats}");
    }
    assert_eq!(stats["totalRefundAmount"].as_f64(), Some(1750.0));
    let disputed = api
        .get(
            "/api/returns?requiresAdminIntervention=true&limit=10",
            Some(ADMIN),
        )
        .await
        .answers(200);
    assert!(!disputed["data"].as_array().unwrap().is_empty());
    // Customers create returns for their own orders only.
    let c = api.post("/api/returns", CUSTOMER, json!({"orderId": "ord-111", "reason": "damaged", "description": "cracked", "media": []})).await.answers(201);
    assert_eq!(c["status"], "requested");
    api.post(
        "/api/returns",
        CUSTOMER2,
        json!({"orderId": "ord-111", "reason": "damaged", "description": "x"}),
    )
    .await
    .refused(403, "own orders");
    api.post(
        "/api/returns",
        CUSTOMER,
        json!({"orderId": "ord-111", "reason": "bored", "description": "x"}),
    )
    .await
    .refused(400, "reason");
}

#[tokio::test]
async fn ticket_state_machine() {
    let api = Api::start().await;
    let t = api.register("customer").await;
    api.post(
        "/api/support/tickets",
        &t,
        json!({"category": "order-issue", "subject": "hi", "description": "long enough text"}),
    )
    .await
    .refused(400, "subject");
    let tk = api.post("/api/support/tickets", &t, json!({"category": "order-issue", "priority": "medium", "subject": "Late order", "description": "My order is late by a week", "attachments": []})).await.answers(201);
    assert_eq!(tk["status"], "open");
    let p = format!("/api/support/tickets/{}", tk["id"].as_str().unwrap());
    api.post(
        &format!("{p}/assign"),
        &t,
        json!({"assignedTo": "agent-user-id"}),
    )
    .await
    .refused(403, "admin");
    api.post(
        &format!("{p}/assign"),
        ADMIN,
        json!({"assignedTo": "agent-user-id", "notes": "n"}),
    )
    .await
    .answers(200);
    let m = api
        .post(
            &format!("{p}/messages"),
            &t,
            json!({"message": "any news?", "isInternal": false}),
        )
        .await
        .answers(201);
    assert_eq!(m["senderRole"], "customer");
    assert_eq!(
        api.get(&p, Some(&t)).await.answers(200)["status"],
        "in-progress"
    );
    assert_eq!(
        api.patch(&p, &t, json!({"status": "resolved"}))
            .await
            .answers(200)["status"],
        "resolved"
    );
    api.patch(&p, &t, json!({"status": "in-progress"}))
        .await
        .refused(403, "resolved or closed");
    api.patch(&p, ADMIN, json!({"status": "open"}))
        .await
        .refused(400, "from resolved to open");
    assert_eq!(
        api.post(&format!("{p}/close"), &t, json!({}))
            .await
            .answers(200)["status"],
        "closed"
    );
    api.post(&format!("{p}/close"), &t, json!({}))
        .await
        .refused(400, "from closed to closed");
    api.post(
        &format!("{p}/messages"),
        &t,
        json!({"message": "actually, not fixed"}),
    )
    .await
    .answers(201);
    assert_eq!(
        api.get(&p, Some(&t)).await.answers(200)["status"],
        "in-progress",
        "a reply re-opens"
    );
    let msgs = api
        .get(&format!("{p}/messages"), Some(&t))
        .await
        .answers(200);
    assert!(
        msgs["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["message"].is_string())
    );
    api.get(&p, Some(CUSTOMER2))
        .await
        .refused(403, "another user");
    api.post(&format!("{p}/messages"), &t, json!({"message": ""}))
        .await
        .refused(400, "message");
}

#[tokio::test]
async fn favorites_unique() {
    let api = Api::start().await;
    let t = api.register("customer").await;
    let f = api
        .post("/api/favorites", &t, json!({"productId": "prod-001"}))
        .await
        .answers(201);
    assert_eq!(f["product"]["id"], "prod-001");
    api.post("/api/favorites", &t, json!({"productId": "prod-001"}))
        .await
        .refused(409, "already a favorite");
    let c = api
        .get("/api/favorites/check/prod-001", Some(&t))
        .await
        .answers(200);
    assert_eq!(
        (c["isFavorited"].clone(), c["favoriteId"].clone()),
        (json!(true), f["id"].clone())
    );
    assert_eq!(
        api.get("/api/favorites/count", Some(&t)).await.answers(200)["count"],
        1
    );
    let id = f["id"].as_str().unwrap();
    api.delete(&format!("/api/favorites/{id}"), &t)
        .await
        .answers(200);
    assert_eq!(
        api.get("/api/favorites", Some(&t)).await.answers(200),
        json!([])
    );
    api.delete(&format!("/api/favorites/{id}"), &t)
        .await
        .refused(404, "favorite");
}

#[tokio::test]
async fn analytics_and_export() {
    let api = Api::start().await;
    let o = api
        .get("/api/analytics?shopId=test-shop-001", Some(SELLER))
        .await
        .answers(200);
    for k in [
        "totalRevenue",
        "totalOrders",
        "totalProducts",
        "totalCustomers",
        "averageOrderValue",
        "conversionRate",
        "revenueGrowth",
        "ordersGrowth",
    ] {
        assert!(o[k].is_number(), "{k} in {o}");
    }
    for period in ["day", "week", "month"] {
        assert!(
            api.get(
                &format!("/api/analytics/sales?shopId=test-shop-001&period={period}"),
                Some(SELLER)
            )
            .await
            .answers(200)
            .is_array()
        );
    }
    api.get(
        "/api/analytics/sales?shopId=test-shop-001&period=decade",
        Some(SELLER),
    )
    .await
    .refused(400, "period");
    assert!(
        api.get(
            "/api/analytics/top-products?shopId=test-shop-001&limit=5",
            Some(SELLER)
        )
        .await
        .answers(200)
        .is_array()
    );
    assert!(
        api.get(
            "/api/analytics/categories?shopId=test-shop-001",
            Some(SELLER)
        )
        .await
        .answers(200)
        .is_array()
    );
    let r = api
        .client
        .get(format!(
            "{}/api/analytics/export?shopId=test-shop-001&period=week&format=csv",
            api.base
        ))
        .bearer_auth(SELLER)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        r.text()
            .await
            .unwrap()
            .starts_with("date,revenue,orders,customers\n")
    );
    api.get("/api/analytics?shopId=test-shop-001", Some(CUSTOMER))
        .await
        .refused(403, "sellers");
}

#[tokio::test]
async fn seed_data_covers_the_workflows() {
    let api = Api::start().await;
    let live = api
        .get("/api/auctions?status=live&limit=20", None)
        .await
        .answers(200);
    assert!(live["pagination"]["total"].as_u64().unwrap() >= 5);
    let pending = api
        .get("/api/orders?status=pending&limit=10&page=1", Some(SELLER))
        .await
        .answers(200);
    assert!(!pending["data"].as_array().unwrap().is_empty());
    let e = api
        .get(
            "/api/products?categoryId=cat-electronics&status=published&limit=15",
            None,
        )
        .await
        .answers(200);
    assert!(
        e["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| !p["variants"].as_array().unwrap().is_empty())
    );
    let cats = api
        .get("/api/categories?isActive=true", None)
        .await
        .answers(200);
    assert!(cats["data"].as_array().unwrap().iter().any(|c| {
        c["name"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("electronics")
    }));
    assert!(
        !api.get("/api/shops?verified=true&limit=10", None)
            .await
            .answers(200)["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        !api.get("/api/support/tickets?status=open&limit=20", Some(ADMIN))
            .await
            .answers(200)["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        api.get("/api/coupons?status=active&limit=5", None)
            .await
            .answers(200)["data"][0]["code"],
        "TEST10"
    );
    let search = api
        .get("/api/products?search=test&status=published&limit=10", None)
        .await
        .answers(200);
    assert!(!search["data"].as_array().unwrap().is_empty());
    let p = api
        .get("/api/products?page=1&limit=10", Some(CUSTOMER))
        .await
        .answers(200);
    assert!(
        p["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["status"] == "published")
    );
    assert!(
        api.get("/api/auctions/featured", None)
            .await
            .answers(200)
            .is_array()
    );
    assert_eq!(
        api.get("/api/blog?limit=5", None).await.answers(200)["pagination"]["total"],
        3
    );
    assert_eq!(
        api.get("/api/blog?limit=5", Some(ADMIN)).await.answers(200)["pagination"]["total"],
        4
    );
}

#[tokio::test]
async fn same_seed_same_data() {
    let fingerprint = |v: &serde_json::Value| -> Vec<(String, String, String)> {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["id"].to_string(),
                    p["price"].to_string(),
                    p["stockCount"].to_string(),
                )
            })
            .collect()
    };
    let a = Api::start().await;
    let b = Api::start().await;
    let c = Api::with(marketplace::Options {
        seed: 7,
        ..Default::default()
    })
    .await;
    let q = "/api/products?limit=100";
    let (fa, fb, fc) = (
        fingerprint(&a.get(q, None).await.1),
        fingerprint(&b.get(q, None).await.1),
        fingerprint(&c.get(q, None).await.1),
    );
    assert_eq!(fa, fb);
    assert_ne!(fa, fc);
}

#[tokio::test]
async fn a_shop_has_at_most_five_active_auctions() {
    let api = Api::start().await;
    let listed = api
        .get("/api/auctions?shopId=test-shop-001&limit=100", None)
        .await
        .answers(200);
    let active = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] == "live" || a["status"] == "scheduled")
        .count();
    assert!(active < 5, "the seed leaves room: {active}");
    let auction = |n: usize, status: &str| {
        json!({
            "shopId": "test-shop-001", "name": format!("Cap {n}"), "slug": format!("cap-{n}"),
            "startingBid": 100, "startTime": "2030-01-01T00:00:00.000Z",
            "endTime": "2030-01-08T00:00:00.000Z", "status": status,
        })
    };
    for n in active..5 {
        api.post("/api/auctions", SELLER, auction(n, "scheduled"))
            .await
            .answers(201);
    }
    api.post("/api/auctions", SELLER, auction(9, "scheduled"))
        .await
        .refused(409, "already has 5 active (scheduled or live) auctions");
    // A draft is not active; making it scheduled needs room, which cancelling one makes.
    let draft = api
        .post("/api/auctions", SELLER, auction(10, "draft"))
        .await
        .answers(201);
    let path = format!("/api/auctions/{}", draft["id"].as_str().unwrap());
    api.patch(&path, SELLER, json!({"status": "scheduled"}))
        .await
        .refused(409, "the most a shop may have is 5");
    api.patch(
        "/api/auctions/cap-4",
        SELLER,
        json!({"status": "cancelled"}),
    )
    .await
    .answers(200);
    api.patch(&path, SELLER, json!({"status": "scheduled"}))
        .await
        .answers(200);
}

#[tokio::test]
async fn coupon_restrictions_are_enforced() {
    let api = Api::start().await;
    let coupon = |code: &str, extra: serde_json::Value| {
        let mut body = json!({
            "shopId": "test-shop-001", "code": code, "name": code, "type": "percentage",
            "discountValue": 10, "startDate": "2020-01-01T00:00:00.000Z",
            "endDate": "2099-01-01T00:00:00.000Z",
        });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let validate = |code: &str, items: serde_json::Value| json!({"code": code, "cartTotal": 1000, "items": items});
    api.post(
        "/api/coupons",
        SELLER,
        coupon(
            "CATONLY",
            json!({
        "applicability": "category", "applicableCategories": ["cat-electronics"]}),
        ),
    )
    .await
    .answers(201);
    let other = api
        .post(
            "/api/coupons/validate",
            SELLER,
            validate("CATONLY", json!([{"categoryId": "cat-books"}])),
        )
        .await
        .answers(200);
    assert_eq!(other["valid"], false, "{other}");
    assert!(
        other["message"]
            .as_str()
            .unwrap()
            .contains("applies only to the categories cat-electronics")
    );
    let own = api
        .post(
            "/api/coupons/validate",
            SELLER,
            validate("CATONLY", json!([{"productId": "prod-001"}])),
        )
        .await
        .answers(200);
    assert_eq!(
        own["valid"], true,
        "a product's category is looked up: {own}"
    );

    api.post(
        "/api/coupons",
        SELLER,
        coupon("FIRSTONLY", json!({"firstOrderOnly": true})),
    )
    .await
    .answers(201);
    let repeat = api
        .post(
            "/api/coupons/validate",
            CUSTOMER,
            validate("FIRSTONLY", json!([])),
        )
        .await
        .answers(200);
    assert_eq!(repeat["valid"], false, "customer 001 has orders: {repeat}");
    assert!(
        repeat["message"]
            .as_str()
            .unwrap()
            .contains("first order only")
    );

    api.post(
        "/api/coupons",
        SELLER,
        coupon("ONCE", json!({"usageLimitPerUser": 1})),
    )
    .await
    .answers(201);
    let (_, fresh) = api
        .call(
            "POST",
            "/api/auth/register",
            None,
            Some(json!({"role": "customer"})),
        )
        .await;
    let token = fresh["token"].as_str().unwrap().to_owned();
    let order = |code: &str| order_body("prod-001", 1, Some(code));
    api.post("/api/orders", &token, order("ONCE"))
        .await
        .answers(201);
    api.post("/api/orders", &token, order("ONCE"))
        .await
        .refused(
            400,
            "may be used 1 time(s) per user; this user has used it 1",
        );
}
