//! The steps of the seed workflows that the rule tests do not already cover, with the
//! request shapes the workflows send and the response fields they read.

mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn seller_product_creation_08() {
    let api = Api::start().await;
    let shop = api
        .get("/api/shops/test-shop-001", Some(SELLER))
        .await
        .answers(200);
    assert_eq!(shop["ownerId"], "test-seller-001");
    let p = api.post("/api/products", SELLER, json!({"name": "Test Product 1", "slug": "test-product-1", "description": "d", "price": 999, "categoryId": "cat-electronics", "shopId": "test-shop-001", "stockCount": 0, "lowStockThreshold": 5, "condition": "new", "countryOfOrigin": "India", "isReturnable": true, "returnWindowDays": 7, "status": "draft"})).await.answers(201);
    let path = format!("/api/products/{}", p["id"].as_str().unwrap());
    let u = api.patch(&path, SELLER, json!({"description": "more", "price": 1499, "stockCount": 50, "sku": "SKU-1", "brand": "B",
        "specifications": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}, {"name": "c", "value": "3"}], "tags": ["a", "b", "c", "d"], "isFeatured": true, "showOnHomepage": true})).await.answers(200);
    assert!(u["price"].is_number() && u["stockCount"].is_number());
    api.patch(
        &path,
        SELLER,
        json!({"images": ["1.jpg", "2.jpg", "3.jpg"]}),
    )
    .await
    .answers(200);
    api.patch(&path, SELLER, json!({"shippingClass": "standard", "dimensions": {"length": 10, "width": 5, "height": 2, "unit": "cm", "weight": 0.5, "weightUnit": "kg"}, "isReturnable": true, "returnWindowDays": 7, "warranty": "1 year"})).await.answers(200);
    api.patch(
        &path,
        SELLER,
        json!({"metaTitle": "m", "metaDescription": "d", "tags": ["x"]}),
    )
    .await
    .answers(200);
    api.get(&path, Some(CUSTOMER)).await.refused(404, "product");
    assert_eq!(
        api.patch(&path, SELLER, json!({"status": "published"}))
            .await
            .answers(200)["status"],
        "published"
    );
    let live = api.get(&path, None).await.answers(200);
    assert_eq!(
        (live["isFeatured"].clone(), live["showOnHomepage"].clone()),
        (json!(true), json!(true))
    );
    let list = api
        .get("/api/products?shopId=test-shop-001&status=published", None)
        .await
        .answers(200);
    assert!(
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == p["id"])
    );
}

#[tokio::test]
async fn seller_inline_operations_10() {
    let api = Api::start().await;
    api.get("/api/shops/random-slug-xyz", Some(SELLER))
        .await
        .refused(404, "shop");
    let shop = api.post("/api/shops", SELLER, json!({"name": "Inline Shop", "slug": "inline-shop-1", "description": "d", "email": "i@example.test", "phone": "+919876543210", "address": {"line1": "x", "city": "Mumbai"}, "showOnHomepage": true})).await.answers(201);
    let sid = shop["id"].as_str().unwrap();
    let cats = api.get("/api/categories", None).await.answers(200);
    let cat = cats["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["name"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("electronics")
        })
        .unwrap()["id"]
        .clone();
    let p = api.post("/api/products", SELLER, json!({"shopId": sid, "categoryId": cat, "name": "Inline Product", "slug": "inline-product-1", "price": 2999, "stockCount": 100, "lowStockThreshold": 10, "status": "draft"})).await.answers(201);
    let coupon = api.post("/api/coupons", SELLER, json!({"shopId": sid, "code": "INLINE123456", "type": "percentage", "discountValue": 15, "minPurchaseAmount": 2000, "minQuantity": 1, "maxDiscountAmount": 500, "usageLimit": 100, "usageLimitPerUser": 1, "applicability": "product", "applicableProducts": [p["id"]], "startDate": "2020-01-01T00:00:00.000Z", "endDate": "2099-01-01T00:00:00.000Z", "isPublic": true, "autoApply": false})).await.answers(201);
    assert_eq!(
        api.get(
            &format!("/api/coupons/{}", coupon["id"].as_str().unwrap()),
            Some(SELLER)
        )
        .await
        .answers(200)["code"],
        "INLINE123456"
    );
    let a = api.post("/api/auctions", SELLER, json!({"shopId": sid, "name": "Inline Product - Auction", "slug": "inline-auction-1", "description": "d", "startingBid": 2999.0 * 0.7, "startTime": "2098-12-31T00:00:00.000Z", "endTime": "2099-01-07T00:00:00.000Z", "status": "scheduled"})).await.answers(201);
    assert!(
        a["startingBid"].is_number()
            && a["currentBid"].is_number()
            && a["startTime"].is_string()
            && a["endTime"].is_string()
    );
    api.get(
        &format!("/api/shops/{}", shop["slug"].as_str().unwrap()),
        None,
    )
    .await
    .answers(200);
    api.get(&format!("/api/categories/{}", cat.as_str().unwrap()), None)
        .await
        .answers(200);
    api.patch(
        &format!("/api/products/{}", p["id"].as_str().unwrap()),
        SELLER,
        json!({"status": "published"}),
    )
    .await
    .answers(200);
    assert_eq!(
        api.patch(
            &format!("/api/auctions/{}", a["id"].as_str().unwrap()),
            SELLER,
            json!({"status": "live"})
        )
        .await
        .answers(200)["status"],
        "live"
    );
}

#[tokio::test]
async fn user_profile_12() {
    let api = Api::start().await;
    let t = api.register("customer").await;
    let orig = api.get("/api/user/profile", Some(&t)).await.answers(200)["user"].clone();
    assert!(orig.is_object());
    let upd = api
        .patch(
            "/api/user/profile",
            &t,
            json!({"name": "TEST_Profile_User_1", "phone": "+919876543210"}),
        )
        .await
        .answers(200);
    assert_eq!(upd["user"]["name"], "TEST_Profile_User_1");
    api.post("/api/user/verify-email", &t, json!({}))
        .await
        .answers(200);
    api.post("/api/user/verify-mobile", &t, json!({}))
        .await
        .answers(200);
    let mk = |name: &str, pin: &str, def: bool| json!({"name": name, "phone": "+919876543210", "line1": "1 St", "line2": "B", "city": "Mumbai", "state": "Maharashtra", "pincode": pin, "country": "India", "isDefault": def});
    let a1 = api
        .post(
            "/api/user/addresses",
            &t,
            mk("TEST_Home_Address", "400001", true),
        )
        .await
        .answers(201);
    let a2 = api
        .post(
            "/api/user/addresses",
            &t,
            mk("TEST_Work_Address", "400051", false),
        )
        .await
        .answers(201);
    api.patch(
        &format!("/api/user/addresses/{}", a2["id"].as_str().unwrap()),
        &t,
        json!({"line2": "Floor 2", "pincode": "400052"}),
    )
    .await
    .answers(200);
    assert_eq!(
        api.patch(
            &format!("/api/user/addresses/{}", a2["id"].as_str().unwrap()),
            &t,
            json!({"isDefault": true})
        )
        .await
        .answers(200)["isDefault"],
        true
    );
    let list = api.get("/api/user/addresses", Some(&t)).await.answers(200)["addresses"].clone();
    let defaults: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["isDefault"] == true)
        .collect();
    assert_eq!(
        (defaults.len(), defaults[0]["id"].clone()),
        (1, a2["id"].clone())
    );
    api.get(
        &format!("/api/user/addresses/{}", a1["id"].as_str().unwrap()),
        Some(CUSTOMER),
    )
    .await
    .refused(404, "address");
    api.call(
        "DELETE",
        &format!("/api/user/addresses/{}", a1["id"].as_str().unwrap()),
        Some(&t),
        None,
    )
    .await
    .answers(200);
    api.patch("/api/user/profile", &t, json!({"phone": "call me"}))
        .await
        .refused(400, "phone");
}

#[tokio::test]
async fn seller_coupons_17() {
    let api = Api::start().await;
    let base = json!({"shopId": "test-shop-001", "minQuantity": 1, "autoApply": false, "isPublic": true, "canCombineWithOtherCoupons": false, "startDate": "2020-01-01T00:00:00Z", "endDate": "2099-01-01T00:00:00Z"});
    let mk = |extra: serde_json::Value| {
        let mut b = base.clone();
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    api.post("/api/coupons", SELLER, mk(json!({"code": "SAVE10_1", "type": "percentage", "discountValue": 10, "maxDiscountAmount": 500, "minPurchaseAmount": 0, "applicability": "all", "usageLimitPerUser": 1, "isFeatured": false}))).await.answers(201);
    let flat = api.post("/api/coupons", SELLER, mk(json!({"code": "FLAT100_1", "type": "flat", "discountValue": 100, "minPurchaseAmount": 1000, "usageLimitPerUser": 2, "isFeatured": true}))).await.answers(201);
    assert_eq!(flat["type"], "flat");
    let fixed = api
        .post(
            "/api/coupons",
            SELLER,
            mk(json!({"code": "FIXED50_1", "type": "fixed", "discountValue": 50})),
        )
        .await
        .answers(201);
    assert_eq!(fixed["type"], "flat", "`fixed` is an alias of `flat`");
    api.post("/api/coupons", SELLER, mk(json!({"code": "FUTURE25_1", "type": "percentage", "discountValue": 25, "maxDiscountAmount": 2000, "minPurchaseAmount": 1500, "usageLimit": 50, "startDate": "2098-01-01T00:00:00Z"}))).await.answers(201);
    api.post(
        "/api/coupons",
        SELLER,
        mk(json!({"code": "SAVE10_1", "type": "percentage", "discountValue": 10})),
    )
    .await
    .refused(409, "code");
    api.post(
        "/api/coupons",
        SELLER,
        mk(json!({"code": "PCT_BIG", "type": "percentage", "discountValue": 150})),
    )
    .await
    .refused(400, "discountValue");
    api.post(
        "/api/coupons",
        SELLER2,
        mk(json!({"code": "NOT_MINE", "type": "flat", "discountValue": 1})),
    )
    .await
    .refused(403, "own shop");
    api.get("/api/coupons/FLAT100_1", Some(SELLER))
        .await
        .answers(200);
    let v = api.post("/api/coupons/validate", SELLER, json!({"code": "SAVE10_1", "cartTotal": 1000, "items": [{"productId": "test-product-1", "categoryId": "test-category-1", "quantity": 2, "price": 500}]})).await.answers(200);
    assert_eq!(
        (v["valid"].clone(), v["discount"].as_f64()),
        (json!(true), Some(100.0))
    );
    api.patch("/api/coupons/SAVE10_1", SELLER, json!({"isFeatured": true}))
        .await
        .answers(200);
    api.patch(
        "/api/coupons/SAVE10_1",
        SELLER,
        json!({"endDate": "2099-06-01T00:00:00Z"}),
    )
    .await
    .answers(200);
    assert_eq!(
        api.patch(
            "/api/coupons/FUTURE25_1",
            SELLER,
            json!({"status": "inactive"})
        )
        .await
        .answers(200)["status"],
        "inactive"
    );
    api.patch(
        "/api/coupons/SAVE10_1",
        SELLER,
        json!({"endDate": "2001-01-01T00:00:00Z"}),
    )
    .await
    .refused(400, "endDate");
    let list = api
        .get("/api/coupons?shopId=test-shop-001&limit=50", Some(SELLER))
        .await
        .answers(200);
    assert!(list["data"].as_array().unwrap().len() >= 5);
    api.delete("/api/coupons/FIXED50_1", SELLER)
        .await
        .answers(200);
}

#[tokio::test]
async fn bidding_history_14_and_advanced_auction_07() {
    let api = Api::start().await;
    let t = api.register("bidder").await;
    let live = api
        .get(
            "/api/auctions?status=live&limit=20&sortBy=endTime&sortOrder=asc",
            None,
        )
        .await
        .answers(200);
    let first = &live["data"][0];
    let ends: Vec<&str> = live["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["endTime"].as_str().unwrap())
        .collect();
    assert!(ends.windows(2).all(|w| w[0] <= w[1]));
    assert!(
        api.get("/api/auctions?status=live&endingSoon=true&limit=10", None)
            .await
            .answers(200)["data"]
            .is_array()
    );
    let id = first["id"].as_str().unwrap();
    let min = first["currentBid"].as_f64().unwrap() + 100.0;
    let bid = api
        .post(
            &format!("/api/auctions/{id}/bid"),
            &t,
            json!({"bidAmount": min, "isAutoBid": false}),
        )
        .await
        .answers(201);
    assert!(bid["id"].is_string());
    assert!(
        api.get(&format!("/api/auctions/{id}"), None)
            .await
            .answers(200)["currentBid"]
            .as_f64()
            .unwrap()
            >= min
    );
    api.post(
        &format!("/api/auctions/{id}/bid"),
        &t,
        json!({"bidAmount": min + 100.0, "isAutoBid": true, "maxAutoBid": min + 500.0}),
    )
    .await
    .answers(201);
    let mine = api
        .get("/api/auctions/my-bids", Some(&t))
        .await
        .answers(200);
    assert_eq!(mine.as_array().unwrap().len(), 2);
    assert!(
        api.get("/api/auctions/won", Some(&t))
            .await
            .answers(200)
            .is_array()
    );
    assert!(
        api.get("/api/auctions/watchlist", Some(&t))
            .await
            .answers(200)
            .is_array()
    );
}

#[tokio::test]
async fn admin_blog_18_and_hero_slides_19() {
    let api = Api::start().await;
    let content = "# Heading\n\n".to_string() + &"Some markdown content. ".repeat(10);
    let post = api.post("/api/blog", ADMIN, json!({"title": "Test Blog Post 1", "slug": "test-blog-post-1", "excerpt": "e", "content": content, "category": "Technology", "tags": ["test", "automation", "workflow"], "status": "draft", "isFeatured": false, "showOnHomepage": false})).await.answers(201);
    let p = format!("/api/blog/{}", post["id"].as_str().unwrap());
    assert!(api.get(&p, Some(ADMIN)).await.answers(200)["tags"].is_array());
    api.get(&p, None).await.refused(404, "blog post");
    api.patch(&p, ADMIN, json!({"featuredImage": "f.jpg"}))
        .await
        .answers(200);
    let pub_ = api
        .patch(
            &p,
            ADMIN,
            json!({"status": "published", "publishedAt": "2030-01-01T00:00:00.000Z"}),
        )
        .await
        .answers(200);
    assert_eq!(pub_["publishedAt"], "2030-01-01T00:00:00.000Z");
    api.patch(
        &p,
        ADMIN,
        json!({"isFeatured": true, "showOnHomepage": true}),
    )
    .await
    .answers(200);
    let u = api
        .patch(
            &p,
            ADMIN,
            json!({"excerpt": "new", "tags": ["test", "updated"]}),
        )
        .await
        .answers(200);
    assert!(u["excerpt"].is_string() && u["tags"].is_array());
    assert_eq!(
        api.patch(&p, ADMIN, json!({"status": "archived"}))
            .await
            .answers(200)["status"],
        "archived"
    );
    api.patch(&p, ADMIN, json!({"status": "draft"}))
        .await
        .refused(400, "from archived to draft");
    assert!(
        api.get(
            "/api/blog?isFeatured=true&status=published&limit=100",
            Some(ADMIN)
        )
        .await
        .answers(200)["data"]
            .is_array()
    );
    api.post("/api/blog", CUSTOMER, json!({"title": "t", "content": "c"}))
        .await
        .refused(403, "admin");
    api.delete(&p, ADMIN).await.answers(200);

    let s1 = api.post("/api/admin/hero-slides", ADMIN, json!({"title": "One", "subtitle": "s", "description": "d", "image": "1.jpg", "mobileImage": "m.jpg", "ctaText": "Shop Now", "ctaLink": "/products", "ctaTarget": "_self", "order": 1, "isActive": false, "backgroundColor": "#000", "textColor": "#fff"})).await.answers(201)["slide"].clone();
    let sp = format!("/api/admin/hero-slides/{}", s1["id"].as_str().unwrap());
    assert!(api.get(&sp, Some(ADMIN)).await.answers(200)["slide"]["order"].is_number());
    api.patch(
        &sp,
        ADMIN,
        json!({"startDate": "2030-01-01T00:00:00.000Z", "endDate": "2030-01-31T00:00:00.000Z"}),
    )
    .await
    .answers(200);
    assert_eq!(
        api.patch(&sp, ADMIN, json!({"isActive": true}))
            .await
            .answers(200)["slide"]["isActive"],
        true
    );
    let s2 = api.post("/api/admin/hero-slides", ADMIN, json!({"title": "Two", "image": "2.jpg", "ctaText": "Go", "ctaLink": "/products/new", "order": 2, "isActive": true})).await.answers(201)["slide"].clone();
    api.post(
        "/api/admin/hero-slides/reorder",
        ADMIN,
        json!({"slides": [{"id": s1["id"], "order": 2}, {"id": s2["id"], "order": 1}]}),
    )
    .await
    .answers(200);
    assert_eq!(
        api.get(&sp, Some(ADMIN)).await.answers(200)["slide"]["order"],
        2
    );
    let active = api
        .get("/api/admin/hero-slides?isActive=true", Some(ADMIN))
        .await
        .answers(200)["slides"]
        .clone();
    assert!(
        active
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["isActive"] == true)
    );
    api.post(
        "/api/admin/hero-slides",
        ADMIN,
        json!({"title": "No image"}),
    )
    .await
    .refused(400, "image");
    api.delete(&sp, ADMIN).await.answers(200);
}

#[tokio::test]
async fn support_flow_04_and_reviews_05_as_one_customer() {
    let api = Api::start().await;
    let t = api.register("customer").await;
    let products = api
        .get("/api/products?status=published&limit=10&page=1", None)
        .await
        .answers(200);
    let pid = products["data"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        api.get(
            &format!("/api/reviews/can-review?productId={pid}"),
            Some(&t)
        )
        .await
        .answers(200)["canReview"],
        true
    );
    let r = api.post("/api/reviews", &t, json!({"productId": pid, "rating": 5, "title": "Great", "comment": "Really good", "media": []})).await.answers(201);
    assert!(
        api.get(&format!("/api/reviews/{}", r["id"].as_str().unwrap()), None)
            .await
            .answers(200)["comment"]
            .is_string()
    );
    let pending = api
        .get(
            &format!("/api/reviews?productId={pid}&isApproved=false&limit=10"),
            Some(&t),
        )
        .await
        .answers(200);
    assert!(
        pending["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == r["id"])
    );
    let s = api
        .get(&format!("/api/reviews/summary?productId={pid}"), None)
        .await
        .answers(200);
    assert!(s["ratingDistribution"]["5"].is_number());
}
