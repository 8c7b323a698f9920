//! Business rules: for each, an allowed case and a refused one (status + error JSON).

mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn auth_401_and_register() {
    let api = Api::start().await;
    assert_err(
        &api.get("/api/cart", None).await,
        401,
        "authentication required",
    );
    assert_err(&api.get("/api/products", Some("nope")).await, 401, "token");
    assert_err(
        &api.raw("GET", "/api/cart", None, None).await,
        401,
        "Bearer",
    );
    let t = api.register("seller").await;
    let me = expect(api.get("/api/user/profile", Some(&t)).await, 200);
    assert_eq!(me["user"]["role"], "seller");
    let t2 = api.register("seller").await;
    assert_ne!(t, t2, "each registration gets its own token");
    assert_err(
        &api.call(
            "POST",
            "/api/auth/register",
            None,
            Some(json!({"role": "wizard"})),
        )
        .await,
        400,
        "role",
    );
    // A fresh seller has no shop and can create one.
    let shop = expect(
        api.post("/api/shops", &t, json!({"name": "Fresh Shop"}))
            .await,
        201,
    );
    assert_eq!(shop["ownerId"], me["user"]["id"]);
    assert_eq!(shop["slug"], "fresh-shop");
}

#[tokio::test]
async fn roles_403() {
    let api = Api::start().await;
    let body = json!({"shopId": "test-shop-001", "categoryId": "cat-electronics", "name": "X", "price": 10});
    assert_err(
        &api.post("/api/products", CUSTOMER, body.clone()).await,
        403,
        "sellers",
    );
    assert_err(
        &api.post("/api/products", SELLER2, body.clone()).await,
        403,
        "own shop",
    );
    expect(api.post("/api/products", SELLER, body).await, 201);
    assert_err(
        &api.patch("/api/products/prod-001", SELLER2, json!({"price": 1}))
            .await,
        403,
        "owner",
    );
    expect(
        api.patch("/api/products/prod-001", SELLER, json!({"price": 1}))
            .await,
        200,
    );
    assert_err(
        &api.get("/api/admin/hero-slides", Some(CUSTOMER)).await,
        403,
        "admin",
    );
    expect(api.get("/api/admin/hero-slides", Some(ADMIN)).await, 200);
    assert_err(
        &api.get("/api/analytics?shopId=test-shop-001", Some(SELLER2))
            .await,
        403,
        "own shop",
    );
    assert_err(
        &api.post("/api/categories", SELLER, json!({"name": "C"}))
            .await,
        403,
        "admin",
    );
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
        assert_err(&api.get(p, Some(ADMIN)).await, 404, "not found");
    }
    for p in [
        "/api/orders/nope",
        "/api/returns/nope",
        "/api/support/tickets/nope",
        "/api/admin/hero-slides/nope",
    ] {
        assert_err(&api.get(p, Some(ADMIN)).await, 404, "'nope' not found");
    }
    assert_err(
        &api.post("/api/cart", CUSTOMER, json!({"productId": "nope"}))
            .await,
        404,
        "productId",
    );
    assert_err(
        &api.get("/api/no/such/route", None).await,
        404,
        "no such route",
    );
}

#[tokio::test]
async fn id_or_slug_resolution() {
    let api = Api::start().await;
    let by_id = expect(api.get("/api/products/prod-001", None).await, 200);
    let by_slug = expect(
        api.get(
            &format!("/api/products/{}", by_id["slug"].as_str().unwrap()),
            None,
        )
        .await,
        200,
    );
    assert_eq!(by_slug["id"], "prod-001");
    assert_eq!(
        expect(api.get("/api/categories/electronics", None).await, 200)["data"]["id"],
        "cat-electronics"
    );
    assert_eq!(
        expect(api.get("/api/categories/cat-electronics", None).await, 200)["success"],
        true
    );
    assert_eq!(
        expect(api.get("/api/shops/tech-haven", None).await, 200)["id"],
        "test-shop-001"
    );
    assert_eq!(
        expect(api.get("/api/shops/test-shop-001", None).await, 200)["ownerId"],
        "test-seller-001"
    );
    assert_eq!(
        expect(api.get("/api/coupons/test10", None).await, 200)["id"],
        "cpn-001"
    );
    assert_eq!(
        expect(api.get("/api/coupons/cpn-001", None).await, 200)["code"],
        "TEST10"
    );
    assert_eq!(
        expect(
            api.get("/api/auctions/vintage-film-camera", None).await,
            200
        )["id"],
        "auc-001"
    );
}

#[tokio::test]
async fn order_transitions() {
    let api = Api::start().await;
    let p = "/api/orders/ord-001";
    assert_eq!(
        expect(api.get(p, Some(SELLER)).await, 200)["status"],
        "pending"
    );
    assert_err(
        &api.patch(p, SELLER, json!({"status": "shipped"})).await,
        400,
        "from pending to shipped",
    );
    assert_err(
        &api.patch(p, CUSTOMER, json!({"status": "confirmed"})).await,
        403,
        "cancel",
    );
    assert_err(
        &api.patch(p, SELLER2, json!({"status": "confirmed"})).await,
        403,
        "another customer",
    );
    assert_eq!(
        expect(
            api.patch(p, SELLER, json!({"status": "confirmed", "notes": "ok"}))
                .await,
            200
        )["status"],
        "confirmed"
    );
    assert_eq!(
        expect(
            api.patch(p, SELLER, json!({"status": "processing"})).await,
            200
        )["status"],
        "processing"
    );
    let shipped = expect(api.post(&format!("{p}/shipment"), SELLER, json!({"carrier": "BlueDart", "tracking_number": "TRK-1", "eta": "2030-01-01T00:00:00.000Z"})).await, 200);
    assert_eq!(shipped["status"], "shipped");
    assert_eq!(shipped["trackingNumber"], "TRK-1");
    assert_eq!(
        expect(api.get(&format!("{p}/track"), Some(CUSTOMER)).await, 200)["status"],
        "in_transit"
    );
    assert_err(
        &api.patch(p, SELLER, json!({"status": "cancelled"})).await,
        400,
        "from shipped to cancelled",
    );
    // Asking for the current status again is a no-op, not a refused transition.
    let again = expect(
        api.patch(p, SELLER, json!({"status": "shipped"})).await,
        200,
    );
    assert_eq!(again["status"], "shipped");
    assert_eq!(again["trackingNumber"], "TRK-1");
    assert_eq!(
        expect(
            api.patch(p, SELLER, json!({"status": "delivered"})).await,
            200
        )["status"],
        "delivered"
    );
    assert_err(
        &api.patch(p, SELLER, json!({"status": "pending"})).await,
        400,
        "from delivered to pending",
    );
    assert_err(
        &api.patch(p, SELLER, json!({"status": "teleported"})).await,
        400,
        "status",
    );
    assert_eq!(
        expect(
            api.patch(p, ADMIN, json!({"status": "refunded"})).await,
            200
        )["paymentStatus"],
        "refunded"
    );
    // Shipment straight from confirmed; the customer may cancel a pending order.
    let q = "/api/orders/ord-002";
    expect(
        api.patch(q, SELLER, json!({"status": "confirmed"})).await,
        200,
    );
    assert_eq!(
        expect(
            api.post(
                &format!("{q}/shipment"),
                SELLER,
                json!({"carrier": "X", "tracking_number": "T"})
            )
            .await,
            200
        )["status"],
        "shipped"
    );
    assert_err(
        &api.post(
            "/api/orders/ord-005/shipment",
            SELLER,
            json!({"carrier": "X", "tracking_number": "T"}),
        )
        .await,
        400,
        "confirmed or processing",
    );
    assert_eq!(
        expect(
            api.patch(
                "/api/orders/ord-005",
                CUSTOMER,
                json!({"status": "cancelled"})
            )
            .await,
            200
        )["status"],
        "cancelled"
    );
}

#[tokio::test]
async fn bid_rule() {
    let api = Api::start().await;
    let a = expect(api.get("/api/auctions/auc-001", None).await, 200);
    let start = a["startingBid"].as_f64().unwrap();
    assert_eq!(a["bidCount"], 0);
    assert_err(
        &api.post(
            "/api/auctions/auc-001/bid",
            BIDDER,
            json!({"bidAmount": start - 1.0}),
        )
        .await,
        400,
        "starting bid",
    );
    let first = expect(
        api.post(
            "/api/auctions/auc-001/bid",
            BIDDER,
            json!({"bidAmount": start}),
        )
        .await,
        201,
    );
    assert_eq!(first["isWinning"], true);
    assert_err(
        &api.post(
            "/api/auctions/auc-001/bid",
            CUSTOMER,
            json!({"bidAmount": start + 50.0}),
        )
        .await,
        400,
        "minimum increment",
    );
    expect(
        api.post(
            "/api/auctions/auc-001/bid",
            CUSTOMER,
            json!({"bidAmount": start + 100.0}),
        )
        .await,
        201,
    );
    let a = expect(api.get("/api/auctions/auc-001", None).await, 200);
    assert_eq!(a["currentBid"].as_f64(), Some(start + 100.0));
    assert_eq!(a["bidCount"], 2);
    let hist = expect(
        api.get("/api/auctions/auc-001/bid?page=1&limit=10", None)
            .await,
        200,
    );
    let bids = hist["data"].as_array().unwrap();
    assert_eq!(bids.len(), 2);
    assert_eq!(bids.iter().filter(|b| b["isWinning"] == true).count(), 1);
    assert_eq!(bids[0]["userId"], "test-customer-001");
    let mine = expect(api.get("/api/auctions/my-bids", Some(BIDDER)).await, 200);
    assert_eq!(
        mine[0]["isWinning"], false,
        "the outbid bid is no longer winning"
    );
    assert_err(
        &api.post(
            "/api/auctions/auc-009/bid",
            BIDDER,
            json!({"bidAmount": 99999}),
        )
        .await,
        400,
        "live auctions",
    );
    assert_err(
        &api.post(
            "/api/auctions/auc-008/bid",
            BIDDER,
            json!({"bidAmount": 99999}),
        )
        .await,
        400,
        "scheduled",
    );
    assert_err(
        &api.post(
            "/api/auctions/auc-003/bid",
            SELLER,
            json!({"bidAmount": 99999}),
        )
        .await,
        403,
        "own auctions",
    );
    assert_err(
        &api.post(
            "/api/auctions/auc-003/bid",
            BIDDER,
            json!({"bidAmount": -5}),
        )
        .await,
        400,
        "bidAmount",
    );
    let won = expect(api.get("/api/auctions/won", Some(BIDDER)).await, 200);
    assert_eq!(won[0]["id"], "auc-009");
}

#[tokio::test]
async fn auction_create_and_lifecycle() {
    let api = Api::start().await;
    let body = json!({"shopId": "test-shop-001", "name": "Lamp - Auction", "startingBid": 2099.3, "endTime": "2099-01-01T00:00:00.000Z", "startTime": "2098-12-25T00:00:00Z", "status": "scheduled"});
    let a = expect(api.post("/api/auctions", SELLER, body.clone()).await, 201);
    assert_eq!(a["currentBid"], a["startingBid"]);
    assert_eq!(a["status"], "scheduled");
    assert_err(&api.post("/api/auctions", SELLER, body).await, 409, "slug");
    let id = a["id"].as_str().unwrap();
    assert_eq!(
        expect(
            api.patch(
                &format!("/api/auctions/{id}"),
                SELLER,
                json!({"status": "live"})
            )
            .await,
            200
        )["status"],
        "live"
    );
    assert_err(
        &api.patch(
            &format!("/api/auctions/{id}"),
            SELLER,
            json!({"status": "draft"}),
        )
        .await,
        400,
        "from live to draft",
    );
    assert_err(&api.post("/api/auctions", SELLER, json!({"shopId": "test-shop-001", "name": "Past", "startingBid": 1, "endTime": "2001-01-01T00:00:00Z"})).await, 400, "endTime");
}

#[tokio::test]
async fn watch_toggles() {
    let api = Api::start().await;
    let t = api.register("bidder").await;
    assert_eq!(
        expect(
            api.post("/api/auctions/auc-002/watch", &t, json!({})).await,
            200
        )["watching"],
        true
    );
    assert_eq!(
        expect(api.get("/api/auctions/watchlist", Some(&t)).await, 200)[0]["id"],
        "auc-002"
    );
    assert_eq!(
        expect(
            api.post("/api/auctions/auc-002/watch", &t, json!({})).await,
            200
        )["watching"],
        false
    );
    assert_eq!(
        expect(api.get("/api/auctions/watchlist", Some(&t)).await, 200),
        json!([])
    );
    assert_err(
        &api.post("/api/auctions/nope/watch", &t, json!({})).await,
        404,
        "auction",
    );
}

#[tokio::test]
async fn coupon_application_and_totals() {
    let api = Api::start().await;
    let t = api.register("customer").await;
    let price = expect(api.get("/api/products/prod-005", None).await, 200)["price"]
        .as_f64()
        .unwrap();
    assert_eq!(price, 499.0);
    expect(
        api.post(
            "/api/cart",
            &t,
            json!({"productId": "prod-005", "quantity": 1}),
        )
        .await,
        201,
    );
    let cart = expect(api.get("/api/cart", Some(&t)).await, 200);
    assert_eq!(
        (
            cart["subtotal"].as_f64(),
            cart["shipping"].as_f64(),
            cart["tax"].as_f64(),
            cart["total"].as_f64()
        ),
        (Some(499.0), Some(100.0), Some(89.82), Some(688.82))
    );
    assert_err(
        &api.post("/api/cart/coupon", &t, json!({"code": "EXPIRED5"}))
            .await,
        400,
        "expired",
    );
    assert_err(
        &api.post("/api/cart/coupon", &t, json!({"code": "FUTURE15"}))
            .await,
        400,
        "not valid before",
    );
    assert_err(
        &api.post("/api/cart/coupon", &t, json!({"code": "LIMITED1"}))
            .await,
        400,
        "used-up",
    );
    assert_err(
        &api.post("/api/cart/coupon", &t, json!({"code": "SELLER20"}))
            .await,
        400,
        "minimum purchase",
    );
    assert_err(
        &api.post("/api/cart/coupon", &t, json!({"code": "NOPE99"}))
            .await,
        404,
        "code",
    );
    let c = expect(
        api.post("/api/cart/coupon", &t, json!({"code": "test10"}))
            .await,
        200,
    );
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
    expect(
        api.post(
            "/api/cart",
            &t,
            json!({"productId": "prod-005", "quantity": 1}),
        )
        .await,
        201,
    );
    let c = expect(
        api.post("/api/cart/coupon", &t, json!({"code": "FLAT100"}))
            .await,
        200,
    );
    assert_eq!(
        (c["subtotal"].as_f64(), c["discount"].as_f64()),
        (Some(998.0), Some(100.0))
    );
    // Percentage capped by maxDiscountAmount; free shipping above 5000.
    expect(api.call("DELETE", "/api/cart", Some(&t), None).await, 200);
    expect(
        api.post(
            "/api/cart",
            &t,
            json!({"productId": "prod-002", "quantity": 10}),
        )
        .await,
        201,
    );
    let c = expect(
        api.post("/api/cart/coupon", &t, json!({"code": "TEST10"}))
            .await,
        200,
    );
    assert_eq!(
        (c["discount"].as_f64(), c["shipping"].as_f64()),
        (Some(500.0), Some(0.0))
    );
    let v = expect(
        api.post(
            "/api/coupons/validate",
            &t,
            json!({"code": "flat100", "cartTotal": 50}),
        )
        .await,
        200,
    );
    assert_eq!(v["valid"], false);
    let v = expect(api.post("/api/coupons/validate", &t, json!({"code": "FLAT100", "cartTotal": 1200, "items": [{"productId": "x", "quantity": 1, "price": 1200}]})).await, 200);
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
    let before = stock(&expect(api.get("/api/products/prod-003", None).await, 200));
    let o = expect(
        api.post("/api/orders", &t, order_body("prod-003", 2, Some("test10")))
            .await,
        201,
    );
    assert_eq!(o["status"], "pending");
    assert_eq!(o["couponCode"], "TEST10");
    let sub = o["subtotal"].as_f64().unwrap();
    assert_eq!(
        o["discount"].as_f64(),
        Some(((sub * 0.1).min(500.0) * 100.0).round() / 100.0)
    );
    assert!(o["orderNumber"].as_str().unwrap().starts_with("ORD-"));
    assert_eq!(
        stock(&expect(api.get("/api/products/prod-003", None).await, 200)),
        before - 2
    );
    assert_eq!(
        expect(api.get("/api/coupons/TEST10", None).await, 200)["usageCount"],
        1
    );
    assert_eq!(
        expect(
            api.get(
                &format!("/api/orders/{}", o["id"].as_str().unwrap()),
                Some(&t)
            )
            .await,
            200
        )["status"],
        "pending"
    );
    assert_err(
        &api.get(
            &format!("/api/orders/{}", o["id"].as_str().unwrap()),
            Some(CUSTOMER2),
        )
        .await,
        403,
        "another customer",
    );
    // Refused: too many, or a bad coupon; neither changes the stock.
    let now = before - 2;
    assert_err(
        &api.post(
            "/api/orders",
            &t,
            order_body("prod-003", (now + 1) as u32, None),
        )
        .await,
        400,
        "insufficient stock",
    );
    assert_err(
        &api.post(
            "/api/orders",
            &t,
            order_body("prod-003", 1, Some("EXPIRED5")),
        )
        .await,
        400,
        "couponCode",
    );
    assert_err(
        &api.post("/api/orders", &t, order_body("prod-003", 0, None))
            .await,
        400,
        "items[0].quantity",
    );
    assert_eq!(
        stock(&expect(api.get("/api/products/prod-003", None).await, 200)),
        now
    );
    // Cancelling restores the stock.
    expect(
        api.patch(
            &format!("/api/orders/{}", o["id"].as_str().unwrap()),
            &t,
            json!({"status": "cancelled"}),
        )
        .await,
        200,
    );
    assert_eq!(
        stock(&expect(api.get("/api/products/prod-003", None).await, 200)),
        before
    );
    // Selling out takes the product off the published list.
    let o = expect(
        api.post(
            "/api/orders",
            &t,
            order_body("prod-003", before as u32, None),
        )
        .await,
        201,
    );
    assert_eq!(
        expect(api.get("/api/products/prod-003", None).await, 200)["status"],
        "out-of-stock"
    );
    assert_err(
        &api.post("/api/cart", &t, json!({"productId": "prod-003"}))
            .await,
        400,
        "not available",
    );
    let _ = o;
}

#[tokio::test]
async fn cart_stock_and_variants() {
    let api = Api::start().await;
    let t = api.register("customer").await;
    let p = expect(api.get("/api/products/prod-002", None).await, 200);
    let item = expect(
        api.post(
            "/api/cart",
            &t,
            json!({"productId": "prod-002", "quantity": 1, "variant": "128GB"}),
        )
        .await,
        201,
    );
    assert_eq!(
        item["price"].as_f64(),
        Some(p["price"].as_f64().unwrap() + 2000.0)
    );
    assert_err(
        &api.post(
            "/api/cart",
            &t,
            json!({"productId": "prod-002", "variant": "1TB"}),
        )
        .await,
        400,
        "variant",
    );
    assert_err(
        &api.post(
            "/api/cart",
            &t,
            json!({"productId": "prod-002", "quantity": 10000}),
        )
        .await,
        400,
        "insufficient stock",
    );
    let again = expect(
        api.post(
            "/api/cart",
            &t,
            json!({"productId": "prod-002", "quantity": 1, "variant": "128GB"}),
        )
        .await,
        201,
    );
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
    let r = expect(api.post("/api/reviews", &t, body.clone()).await, 201);
    assert_eq!(r["isApproved"], false);
    assert_err(
        &api.post("/api/reviews", &t, body).await,
        409,
        "already reviewed",
    );
    assert_eq!(
        expect(
            api.get("/api/reviews/can-review?productId=prod-008", Some(&t))
                .await,
            200
        )["canReview"],
        false
    );
    assert_err(
        &api.post(
            "/api/reviews",
            &t,
            json!({"productId": "prod-009", "rating": 6, "comment": "x"}),
        )
        .await,
        400,
        "rating",
    );
    assert_err(
        &api.post(
            "/api/reviews",
            &t,
            json!({"productId": "prod-009", "rating": 4.5, "comment": "x"}),
        )
        .await,
        400,
        "rating",
    );
    let id = r["id"].as_str().unwrap();
    assert_err(
        &api.patch(
            &format!("/api/reviews/{id}/moderate"),
            &t,
            json!({"isApproved": true}),
        )
        .await,
        403,
        "moderate",
    );
    expect(
        api.patch(
            &format!("/api/reviews/{id}/moderate"),
            ADMIN,
            json!({"isApproved": true, "moderationNotes": "ok"}),
        )
        .await,
        200,
    );
    let s = expect(
        api.get("/api/reviews/summary?productId=prod-008", None)
            .await,
        200,
    );
    assert_eq!(
        (s["totalReviews"].clone(), s["averageRating"].as_f64()),
        (json!(1), Some(5.0))
    );
    assert_eq!(
        expect(
            api.post(&format!("/api/reviews/{id}/helpful"), CUSTOMER, json!({}))
                .await,
            200
        )["helpfulCount"],
        1
    );
    assert_err(
        &api.post(&format!("/api/reviews/{id}/helpful"), CUSTOMER, json!({}))
            .await,
        409,
        "already marked",
    );
    let pending = expect(
        api.get(
            "/api/reviews?isApproved=false&limit=15&sortBy=createdAt&sortOrder=desc",
            Some(ADMIN),
        )
        .await,
        200,
    );
    for r in pending["data"].as_array().unwrap() {
        let n = r["rating"].as_u64().unwrap();
        assert!((1..=5).contains(&n) && r["comment"].is_string());
    }
}

#[tokio::test]
async fn category_tree_fields() {
    let api = Api::start().await;
    let mk = |name: &str, parent: Option<&str>| json!({"name": name, "parentId": parent, "sortOrder": 1, "isActive": true, "showOnHomepage": true, "commissionRate": 10});
    let parent = expect(
        api.post("/api/categories", ADMIN, mk("Tree Root", None))
            .await,
        201,
    )["data"]
        .clone();
    let pid = parent["id"].as_str().unwrap();
    let c1 = expect(
        api.post("/api/categories", ADMIN, mk("Tree Child One", Some(pid)))
            .await,
        201,
    )["data"]
        .clone();
    let c2 = expect(
        api.post("/api/categories", ADMIN, mk("Tree Child Two", Some(pid)))
            .await,
        201,
    )["data"]
        .clone();
    let c1id = c1["id"].as_str().unwrap();
    let g = expect(
        api.post("/api/categories", ADMIN, mk("Tree Grandchild", Some(c1id)))
            .await,
        201,
    )["data"]
        .clone();
    let p = expect(api.get(&format!("/api/categories/{pid}"), None).await, 200)["data"].clone();
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
    let moved = expect(
        api.patch(
            &format!("/api/categories/{c2id}"),
            ADMIN,
            json!({"parentId": c1id}),
        )
        .await,
        200,
    )["data"]
        .clone();
    assert_eq!(moved["level"], 2);
    let p = expect(api.get(&format!("/api/categories/{pid}"), None).await, 200)["data"].clone();
    assert_eq!(p["childCount"], 1);
    let c1 = expect(api.get(&format!("/api/categories/{c1id}"), None).await, 200)["data"].clone();
    assert_eq!(c1["childCount"], 2);
    assert_err(
        &api.patch(
            &format!("/api/categories/{pid}"),
            ADMIN,
            json!({"parentId": g["id"]}),
        )
        .await,
        400,
        "parentId",
    );
    assert_err(
        &api.post("/api/categories", ADMIN, mk("Tree Root", None))
            .await,
        409,
        "slug",
    );
    assert_err(
        &api.post("/api/categories", ADMIN, mk("Orphan", Some("nope")))
            .await,
        404,
        "parentId",
    );
    let root = expect(
        api.patch(
            &format!("/api/categories/{c2id}"),
            ADMIN,
            json!({"parentId": null}),
        )
        .await,
        200,
    )["data"]
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
    let list = expect(
        api.get(
            "/api/returns?shopId=test-shop-001&status=requested&limit=10",
            Some(SELLER),
        )
        .await,
        200,
    );
    assert!(list["data"].as_array().unwrap().len() >= 3);
    assert_err(
        &api.post(
            &format!("{}/refund", r("ret-001")),
            SELLER,
            json!({"refundAmount": 1000, "refundMethod": "original_payment_method"}),
        )
        .await,
        400,
        "received",
    );
    assert_eq!(
        expect(
            api.post(
                &format!("{}/approve", r("ret-001")),
                SELLER,
                json!({"approved": true, "notes": "ok"})
            )
            .await,
            200
        )["status"],
        "approved"
    );
    assert_err(
        &api.patch(&r("ret-001"), SELLER, json!({"status": "completed"}))
            .await,
        400,
        "from approved to completed",
    );
    assert_eq!(
        expect(
            api.patch(
                &r("ret-001"),
                SELLER,
                json!({"status": "item-received", "adminNotes": "got it"})
            )
            .await,
            200
        )["status"],
        "item-received"
    );
    assert_err(
        &api.post(
            &format!("{}/refund", r("ret-001")),
            SELLER,
            json!({"refundAmount": 0, "refundMethod": "x"}),
        )
        .await,
        400,
        "refundAmount",
    );
    let done = expect(api.post(&format!("{}/refund", r("ret-001")), SELLER, json!({"refundAmount": 1000, "refundMethod": "original_payment_method", "refundTransactionId": "TXN_1"})).await, 200);
    assert_eq!(
        (done["status"].clone(), done["refundAmount"].as_f64()),
        (json!("refund-processed"), Some(1000.0))
    );
    assert_eq!(
        expect(
            api.patch(&r("ret-001"), SELLER, json!({"status": "completed"}))
                .await,
            200
        )["status"],
        "completed"
    );
    // Rejection, then only an admin may override it.
    assert_eq!(
        expect(
            api.post(
                &format!("{}/approve", r("ret-002")),
                SELLER,
                json!({"approved": false, "notes": "no"})
            )
            .await,
            200
        )["status"],
        "rejected"
    );
    assert_err(
        &api.post(
            &format!("{}/approve", r("ret-002")),
            SELLER,
            json!({"approved": true}),
        )
        .await,
        400,
        "admin",
    );
    assert_eq!(
        expect(
            api.post(
                &format!("{}/approve", r("ret-002")),
                ADMIN,
                json!({"approved": true})
            )
            .await,
            200
        )["status"],
        "approved"
    );
    // Admin resolves a dispute with a partial refund; sellers cannot.
    assert_err(
        &api.post(
            &format!("{}/resolve", r("ret-003")),
            SELLER,
            json!({"resolution": "partial_refund", "refundAmount": 750}),
        )
        .await,
        403,
        "admin",
    );
    assert_err(
        &api.post(
            &format!("{}/resolve", r("ret-003")),
            ADMIN,
            json!({"resolution": "partial_refund"}),
        )
        .await,
        400,
        "refundAmount",
    );
    let res = expect(
        api.post(
            &format!("{}/resolve", r("ret-003")),
            ADMIN,
            json!({"resolution": "partial_refund", "refundAmount": 750, "notes": "split"}),
        )
        .await,
        200,
    );
    assert_eq!(
        (
            res["refundAmount"].as_f64(),
            res["requiresAdminIntervention"].clone(),
            res["resolution"].clone()
        ),
        (Some(750.0), json!(false), json!("partial_refund"))
    );
    assert_err(
        &api.post(
            &format!("{}/approve", r("ret-001")),
            SELLER2,
            json!({"approved": true}),
        )
        .await,
        403,
        "seller",
    );
    let stats = expect(
        api.get("/api/returns/stats?shopId=test-shop-001", Some(SELLER))
            .await,
        200,
    );
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
    let disputed = expect(
        api.get(
            "/api/returns?requiresAdminIntervention=true&limit=10",
            Some(ADMIN),
        )
        .await,
        200,
    );
    assert!(!disputed["data"].as_array().unwrap().is_empty());
    // Customers create returns for their own orders only.
    let c = expect(api.post("/api/returns", CUSTOMER, json!({"orderId": "ord-111", "reason": "damaged", "description": "cracked", "media": []})).await, 201);
    assert_eq!(c["status"], "requested");
    assert_err(
        &api.post(
            "/api/returns",
            CUSTOMER2,
            json!({"orderId": "ord-111", "reason": "damaged", "description": "x"}),
        )
        .await,
        403,
        "own orders",
    );
    assert_err(
        &api.post(
            "/api/returns",
            CUSTOMER,
            json!({"orderId": "ord-111", "reason": "bored", "description": "x"}),
        )
        .await,
        400,
        "reason",
    );
}

#[tokio::test]
async fn ticket_state_machine() {
    let api = Api::start().await;
    let t = api.register("customer").await;
    assert_err(
        &api.post(
            "/api/support/tickets",
            &t,
            json!({"category": "order-issue", "subject": "hi", "description": "long enough text"}),
        )
        .await,
        400,
        "subject",
    );
    let tk = expect(api.post("/api/support/tickets", &t, json!({"category": "order-issue", "priority": "medium", "subject": "Late order", "description": "My order is late by a week", "attachments": []})).await, 201);
    assert_eq!(tk["status"], "open");
    let p = format!("/api/support/tickets/{}", tk["id"].as_str().unwrap());
    assert_err(
        &api.post(
            &format!("{p}/assign"),
            &t,
            json!({"assignedTo": "agent-user-id"}),
        )
        .await,
        403,
        "admin",
    );
    expect(
        api.post(
            &format!("{p}/assign"),
            ADMIN,
            json!({"assignedTo": "agent-user-id", "notes": "n"}),
        )
        .await,
        200,
    );
    let m = expect(
        api.post(
            &format!("{p}/messages"),
            &t,
            json!({"message": "any news?", "isInternal": false}),
        )
        .await,
        201,
    );
    assert_eq!(m["senderRole"], "customer");
    assert_eq!(
        expect(api.get(&p, Some(&t)).await, 200)["status"],
        "in-progress"
    );
    assert_eq!(
        expect(api.patch(&p, &t, json!({"status": "resolved"})).await, 200)["status"],
        "resolved"
    );
    assert_err(
        &api.patch(&p, &t, json!({"status": "in-progress"})).await,
        403,
        "resolved or closed",
    );
    assert_err(
        &api.patch(&p, ADMIN, json!({"status": "open"})).await,
        400,
        "from resolved to open",
    );
    assert_eq!(
        expect(api.post(&format!("{p}/close"), &t, json!({})).await, 200)["status"],
        "closed"
    );
    assert_err(
        &api.post(&format!("{p}/close"), &t, json!({})).await,
        400,
        "from closed to closed",
    );
    expect(
        api.post(
            &format!("{p}/messages"),
            &t,
            json!({"message": "actually, not fixed"}),
        )
        .await,
        201,
    );
    assert_eq!(
        expect(api.get(&p, Some(&t)).await, 200)["status"],
        "in-progress",
        "a reply re-opens"
    );
    let msgs = expect(api.get(&format!("{p}/messages"), Some(&t)).await, 200);
    assert!(
        msgs["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["message"].is_string())
    );
    assert_err(&api.get(&p, Some(CUSTOMER2)).await, 403, "another user");
    assert_err(
        &api.post(&format!("{p}/messages"), &t, json!({"message": ""}))
            .await,
        400,
        "message",
    );
}

#[tokio::test]
async fn favorites_unique() {
    let api = Api::start().await;
    let t = api.register("customer").await;
    let f = expect(
        api.post("/api/favorites", &t, json!({"productId": "prod-001"}))
            .await,
        201,
    );
    assert_eq!(f["product"]["id"], "prod-001");
    assert_err(
        &api.post("/api/favorites", &t, json!({"productId": "prod-001"}))
            .await,
        409,
        "already a favorite",
    );
    let c = expect(
        api.get("/api/favorites/check/prod-001", Some(&t)).await,
        200,
    );
    assert_eq!(
        (c["isFavorited"].clone(), c["favoriteId"].clone()),
        (json!(true), f["id"].clone())
    );
    assert_eq!(
        expect(api.get("/api/favorites/count", Some(&t)).await, 200)["count"],
        1
    );
    let id = f["id"].as_str().unwrap();
    expect(
        api.call("DELETE", &format!("/api/favorites/{id}"), Some(&t), None)
            .await,
        200,
    );
    assert_eq!(
        expect(api.get("/api/favorites", Some(&t)).await, 200),
        json!([])
    );
    assert_err(
        &api.call("DELETE", &format!("/api/favorites/{id}"), Some(&t), None)
            .await,
        404,
        "favorite",
    );
}

#[tokio::test]
async fn analytics_and_export() {
    let api = Api::start().await;
    let o = expect(
        api.get("/api/analytics?shopId=test-shop-001", Some(SELLER))
            .await,
        200,
    );
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
            expect(
                api.get(
                    &format!("/api/analytics/sales?shopId=test-shop-001&period={period}"),
                    Some(SELLER)
                )
                .await,
                200
            )
            .is_array()
        );
    }
    assert_err(
        &api.get(
            "/api/analytics/sales?shopId=test-shop-001&period=decade",
            Some(SELLER),
        )
        .await,
        400,
        "period",
    );
    assert!(
        expect(
            api.get(
                "/api/analytics/top-products?shopId=test-shop-001&limit=5",
                Some(SELLER)
            )
            .await,
            200
        )
        .is_array()
    );
    assert!(
        expect(
            api.get(
                "/api/analytics/categories?shopId=test-shop-001",
                Some(SELLER)
            )
            .await,
            200
        )
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
    assert_err(
        &api.get("/api/analytics?shopId=test-shop-001", Some(CUSTOMER))
            .await,
        403,
        "sellers",
    );
}

#[tokio::test]
async fn seed_data_covers_the_workflows() {
    let api = Api::start().await;
    let live = expect(
        api.get("/api/auctions?status=live&limit=20", None).await,
        200,
    );
    assert!(live["pagination"]["total"].as_u64().unwrap() >= 5);
    let pending = expect(
        api.get("/api/orders?status=pending&limit=10&page=1", Some(SELLER))
            .await,
        200,
    );
    assert!(!pending["data"].as_array().unwrap().is_empty());
    let e = expect(
        api.get(
            "/api/products?categoryId=cat-electronics&status=published&limit=15",
            None,
        )
        .await,
        200,
    );
    assert!(
        e["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| !p["variants"].as_array().unwrap().is_empty())
    );
    let cats = expect(api.get("/api/categories?isActive=true", None).await, 200);
    assert!(cats["data"].as_array().unwrap().iter().any(|c| {
        c["name"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("electronics")
    }));
    assert!(
        !expect(
            api.get("/api/shops?verified=true&limit=10", None).await,
            200
        )["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        !expect(
            api.get("/api/support/tickets?status=open&limit=20", Some(ADMIN))
                .await,
            200
        )["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        expect(
            api.get("/api/coupons?status=active&limit=5", None).await,
            200
        )["data"][0]["code"],
        "TEST10"
    );
    let search = expect(
        api.get("/api/products?search=test&status=published&limit=10", None)
            .await,
        200,
    );
    assert!(!search["data"].as_array().unwrap().is_empty());
    let p = expect(
        api.get("/api/products?page=1&limit=10", Some(CUSTOMER))
            .await,
        200,
    );
    assert!(
        p["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["status"] == "published")
    );
    assert!(expect(api.get("/api/auctions/featured", None).await, 200).is_array());
    assert_eq!(
        expect(api.get("/api/blog?limit=5", None).await, 200)["pagination"]["total"],
        3
    );
    assert_eq!(
        expect(api.get("/api/blog?limit=5", Some(ADMIN)).await, 200)["pagination"]["total"],
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
