//! The OpenAPI 3.1 document of every public route, served at `GET /openapi.json`.
//!
//! Head's handlers carry their own `#[utoipa::path]`; the routes other crates mount in the
//! same public listener (auth's JWKS, the platform's health and metrics) are described
//! here by documentation-only stubs, so those crates stay free of this concern. Errors are
//! one reusable schema, [`ErrorEnvelope`], and one response component per meaning
//! (`Unauthorized`, `RateLimited`...) that narrows `error.code` to the catalogue codes the
//! route can really answer with that status.

use std::borrow::Cow;
use std::sync::LazyLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use guildhall_core::ErrorCode;
use serde_json::{Value, json};
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::link::{Link, LinkBuilder};
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, ArrayBuilder, ObjectBuilder, Schema, Type,
};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr, ResponseBuilder, response};
use utoipa::{Modify, OpenApi, PartialSchema, ToResponse, ToSchema};
use uuid::Uuid;

mod matchmaking;
mod platform;
mod tables;
mod terminal;

use tables::TableLinks;

use super::guest::InitResponse;
use super::session::SessionResponse;

/// The bearer security scheme's name (the handlers' `security(...)` spell it out).
pub const BEARER: &str = "bearerAuth";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Guildhall public API",
        description = "The public HTTP API of a Guildhall platform: guests, accounts, sessions, \
            profiles, matchmaking, card tables, terminal game deaths, the token signing keys, health and metrics.\n\n\
            Every error is `{\"error\": {\"code\", \"message\", \"details\"?}}` with a code from \
            the platform catalogue; each code always has the same status. Besides the statuses \
            listed per operation, any request can be answered `504 timeout` when it runs past \
            the server's request timeout, an unknown path `404 not_found`, and a method a path \
            does not serve `405 method_not_allowed` with `Allow`.\n\n\
            In the split deployment (`guildhall serve <service>`), `/.well-known/jwks.json` is \
            served by the auth service and the `/v1/*` routes by head.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        super::guest::init,
        super::guest::login,
        super::accounts::register,
        super::accounts::change_password,
        super::session::login,
        super::session::refresh,
        super::session::logout,
        super::profile::show,
        super::profile::update,
        super::profile::public,
        matchmaking::create_ticket,
        matchmaking::show_ticket,
        matchmaking::cancel_ticket,
        matchmaking::user_stats,
        tables::create_table,
        tables::join_table,
        tables::observer_token,
        terminal::events,
        platform::jwks,
        platform::health_live,
        platform::health_ready,
        platform::metrics_text,
        openapi_json,
    ),
    components(
        schemas(
            ErrorEnvelope,
            ErrorCodeSchema,
            ProfileDoc,
            ProfileKind,
            matchmaking::NewTicketDoc,
            matchmaking::TicketDoc,
            matchmaking::TicketStatus,
            matchmaking::AssignmentDoc,
            matchmaking::StatsDoc,
            matchmaking::RecentMatchDoc,
            tables::NewTableDoc,
            tables::TableOptionsDoc,
            tables::FirstLeadDoc,
            tables::TableNameDoc,
            tables::SeatDoc,
            tables::ObserverTokenDoc,
            terminal::DeathDoc
        ),
        responses(
            InvalidRequest,
            Unauthorized,
            InvalidCredentials,
            PasswordRejected,
            Banned,
            UpgradeForbidden,
            UserNotFound,
            TicketNotFound,
            TicketExists,
            MatchmakerUnavailable,
            GameNotFound,
            JoinFailed,
            RoutingFailed,
            GameUnavailable,
            TablesUnavailable,
            UsernameTaken,
            VersionConflict,
            PayloadTooLarge,
            UnsupportedMediaType,
            DisplayNameRejected,
            TableNameRejected,
            RateLimited,
            Internal,
            AuthUnavailable,
            EventsUnavailable,
            NotReady,
        ),
    ),
    modifiers(&BearerScheme, &OptionalBodies, &Links, &TableLinks),
    tags(
        (name = "guests", description = "Players who have not registered, identified by a device secret."),
        (name = "accounts", description = "Registration (or a guest's upgrade) and passwords."),
        (name = "sessions", description = "Signing in, refreshing and signing out."),
        (name = "profiles", description = "Display names and public profiles."),
        (name = "matchmaking", description = "Queueing for a game and being assigned a lobby (see docs/matchmaking.md)."),
        (name = "tables", description = "Card tables (Briscola chiamata for five): creating a table, taking a seat and watching, each answered with a table token for the tables WebSocket gateway (see docs/tables.md, and docs/protocol/tables.md for the wire protocol)."),
        (name = "terminal", description = "Terminal games over SSH (see docs/terminal.md): the public stream of deaths."),
        (name = "platform", description = "Token signing keys, health, metrics and this document."),
    ),
)]
pub struct ApiDoc;

/// Adds the `Authorization: Bearer <access token>` scheme.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.bearer_format = Some("JWT".into());
        http.description = Some(
            "An access token (`session_token` from guest init, login, registration or refresh), \
             sent as `Authorization: Bearer <token>`."
                .into(),
        );
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(BEARER, SecurityScheme::Http(http));
    }
}

/// `POST /v1/guest/init` takes `{}`, `{"display_name": ...}` or no body at all, and so do
/// the table routes; the derive can only say "optional" by also allowing a JSON `null`,
/// which the handlers refuse.
struct OptionalBodies;

impl Modify for OptionalBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for path in std::iter::once("/v1/guest/init").chain(tables::OPTIONAL_BODIES) {
            let body = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| item.post.as_mut())
                .and_then(|op| op.request_body.as_mut())
                .unwrap_or_else(|| panic!("POST {path} has a request body"));
            body.required = Some(utoipa::openapi::Required::False);
        }
    }
}

/// Links from every answer carrying tokens to what a client does next with them: read the
/// user's public profile, refresh, and (for a new guest) sign in again with its secret.
/// They document the flow and let stateful testing follow it.
struct Links;

/// A link to `operation_id`.
///
/// utoipa 5's `Link` serializes `operation_id` and `request_body` under those snake_case
/// names, which OpenAPI does not know; its flattened extensions carry the right names.
fn link(operation_id: &str, description: &str, request_body: Option<Value>) -> Link {
    let mut fields = vec![("operationId", Value::from(operation_id))];
    fields.extend(request_body.map(|body| ("requestBody", body)));
    LinkBuilder::new()
        .description(description)
        .extensions(Some(fields.into_iter().collect::<Extensions>()))
        .build()
}

impl Modify for Links {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let public_profile = |id: &str| {
            let mut link = link("get_public_profile", "The user's public profile.", None);
            link.parameters
                .insert("user_id".into(), format!("$response.body#/{id}").into());
            RefOr::T(link)
        };
        let refresh = RefOr::T(link(
            "session_refresh",
            "Exchange the refresh token for a new pair.",
            Some(json!({"refresh_token": "$response.body#/refresh_token"})),
        ));
        let guest_login = RefOr::T(link(
            "guest_login",
            "Sign the guest in again.",
            Some(json!({
                "guest_id": "$response.body#/guest_id",
                "guest_secret": "$response.body#/guest_secret",
            })),
        ));

        let session = Ref::from_schema_name(SessionResponse::name());
        let init = Ref::from_schema_name(InitResponse::name());
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.post, &mut item.put];
            for operation in operations.into_iter().flatten() {
                for (status, response) in &mut operation.responses.responses {
                    let RefOr::T(response) = response else {
                        continue;
                    };
                    if !status.starts_with('2') {
                        continue;
                    }
                    let schema = response
                        .content
                        .get("application/json")
                        .and_then(|content| content.schema.clone());
                    let links = &mut response.links;
                    match schema {
                        Some(RefOr::Ref(r)) if r == session => {
                            links.insert("PublicProfile".into(), public_profile("user_id"));
                            links.insert("Refresh".into(), refresh.clone());
                        }
                        Some(RefOr::Ref(r)) if r == init => {
                            links.insert("PublicProfile".into(), public_profile("guest_id"));
                            links.insert("Refresh".into(), refresh.clone());
                            links.insert("GuestLogin".into(), guest_login.clone());
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

/// The document, built once.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(ApiDoc::openapi);
    &DOC
}

/// This OpenAPI 3.1 document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    tag = "platform",
    responses((
        status = 200,
        description = "The OpenAPI 3.1 document of every public route.",
        content_type = "application/json",
        body = Object,
    )),
)]
pub async fn openapi_json() -> Response {
    static JSON: LazyLock<Vec<u8>> =
        LazyLock::new(|| serde_json::to_vec(document()).expect("the document serializes"));
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        JSON.as_slice(),
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------
// Shared schemas.

/// Whether a profile belongs to a guest or an account.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum ProfileKind {
    Guest,
    Account,
}

// Mirrors `crate::Profile` (the test below keeps them equal).
/// A profile as its owner sees it; its `version` is also the response's `ETag`.
#[derive(ToSchema)]
#[schema(as = Profile)]
#[allow(dead_code)]
pub struct ProfileDoc {
    user_id: Uuid,
    display_name: String,
    kind: ProfileKind,
    /// Bumped by every change; send it back in `If-Match`.
    #[schema(minimum = 1)]
    version: i64,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
}

/// Every code of the platform's error catalogue.
pub struct ErrorCodeSchema;

impl PartialSchema for ErrorCodeSchema {
    fn schema() -> RefOr<Schema> {
        codes(ErrorCode::ALL)
            .description(Some(
                "A code from the platform catalogue; each code always has the same HTTP status.",
            ))
            .into()
    }
}

impl ToSchema for ErrorCodeSchema {
    fn name() -> Cow<'static, str> {
        "ErrorCode".into()
    }
}

/// `{"error": {"code", "message", "details"?}}`, every error's body.
pub struct ErrorEnvelope;

impl PartialSchema for ErrorEnvelope {
    fn schema() -> RefOr<Schema> {
        let body = ObjectBuilder::new()
            .property("code", Ref::from_schema_name(ErrorCodeSchema::name()))
            .required("code")
            .property(
                "message",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some("For humans; do not match on it.")),
            )
            .required("message")
            .property(
                "details",
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .description(Some("Code-specific details, when there are any.")),
            )
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        ObjectBuilder::new()
            .description(Some(
                "The platform error envelope. Some errors add members beside `error` (a \
                 `409 version_conflict` carries the current `profile`).",
            ))
            .property("error", body)
            .required("error")
            .into()
    }
}

impl ToSchema for ErrorEnvelope {
    fn name() -> Cow<'static, str> {
        "ErrorEnvelope".into()
    }
}

/// A string schema allowing exactly these codes.
fn codes(codes: &[ErrorCode]) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes.iter().map(|c| c.as_str())))
}

/// The envelope with `error.code` narrowed to `allowed`; `error` and `top` add members to
/// the error body and beside it.
fn envelope_with(allowed: &[ErrorCode], error: ObjectBuilder, top: ObjectBuilder) -> Schema {
    let narrowed = top.property("error", error.property("code", codes(allowed)));
    AllOfBuilder::new()
        .item(Ref::from_schema_name(ErrorEnvelope::name()))
        .item(narrowed)
        .into()
}

fn retry_after() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1)),
        )
        .description(Some("Seconds to wait before trying again."))
        .build()
}

fn error_response(description: &str, schema: Schema) -> response::ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new().schema(Some(schema)).build(),
    )
}

/// Declares error response components: name, description, the codes it may carry and
/// whether it sends `Retry-After`.
macro_rules! error_responses {
    ($( $(#[$doc:meta])* $name:ident: $description:literal, [$($code:ident),+] $(, $retry:ident)?; )+) => {
        $(
            $(#[$doc])*
            pub struct $name;

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<response::Response>) {
                    let builder = error_response(
                        $description,
                        envelope_with(
                            &[$(ErrorCode::$code),+],
                            ObjectBuilder::new(),
                            ObjectBuilder::new(),
                        ),
                    );
                    $( let builder = builder.header("Retry-After", $retry()); )?
                    (stringify!($name), builder.build().into())
                }
            }
        )+
    };
}

error_responses! {
    InvalidRequest: "The request is malformed: bad JSON, a missing or unknown field, a wrong \
        type, a value breaking a rule (`invalid_request`).", [InvalidRequest];
    Unauthorized: "No valid bearer token: missing, malformed, expired or revoked \
        (`unauthorized`).", [Unauthorized];
    InvalidCredentials: "The credentials are wrong (`invalid_credentials`).",
        [InvalidCredentials];
    PasswordRejected: "No valid bearer token (`unauthorized`), or the current password is \
        wrong (`invalid_credentials`).", [Unauthorized, InvalidCredentials];
    Banned: "The user is banned (`banned`).", [Banned];
    UpgradeForbidden: "The bearer token is not a guest's, so it cannot be upgraded \
        (`forbidden`), or the user is banned (`banned`).", [Forbidden, Banned];
    UserNotFound: "No such user (`user_not_found`).", [UserNotFound];
    UsernameTaken: "The username is taken (`username_taken`).", [UsernameTaken];
    PayloadTooLarge: "The body is larger than the server's limit (`payload_too_large`).",
        [PayloadTooLarge];
    UnsupportedMediaType: "The body is not sent as `Content-Type: application/json` \
        (`unsupported_media_type`).", [UnsupportedMediaType];
    DisplayNameRejected: "The name breaks the nickname rules (`invalid_display_name`), or is \
        reserved or imitates another account's username (`display_name_reserved`).",
        [InvalidDisplayName, DisplayNameReserved];
    TableNameRejected: "The name shown at the table breaks the nickname rules \
        (`invalid_display_name`).", [InvalidDisplayName];
    RateLimited: "Too many attempts from this address or for this username \
        (`rate_limited`).", [RateLimited], retry_after;
    Internal: "The server failed; the cause is logged, never sent (`internal`).",
        [Internal];
    AuthUnavailable: "The auth service is unreachable or its circuit is open \
        (`auth_unavailable`).", [AuthUnavailable], retry_after;
    TicketNotFound: "No such ticket, or it is someone else's (`ticket_not_found`).",
        [TicketNotFound];
    TicketExists: "The caller already has a queued ticket for this mode; \
        `details.ticket_id` names it (`ticket_exists`).", [TicketExists];
    MatchmakerUnavailable: "The matchmaker is unreachable or could not save the ticket \
        (`unavailable`).", [Unavailable];
    GameNotFound: "No such table: the id is not six letters and digits, or no table has it \
        (`game_not_found`).", [GameNotFound];
    JoinFailed: "No seat can be granted: the table is full (`join_failed`).", [JoinFailed];
    RoutingFailed: "The request could not be sent to the table's worker over the bus \
        (`routing_failed`).", [RoutingFailed];
    GameUnavailable: "The table's worker did not start or answer within 5 seconds, or the \
        bus failed (`game_unavailable`); or auth could not be reached to sign the token \
        (`auth_unavailable`, with `Retry-After`).", [GameUnavailable, AuthUnavailable],
        retry_after;
    EventsUnavailable: "The event bus is unreachable (`unavailable`).", [Unavailable];
    TablesUnavailable: "The table could not be stored (`unavailable`), its worker did not \
        start or answer within 5 seconds (`game_unavailable`), or auth could not be reached \
        to sign the token (`auth_unavailable`, with `Retry-After`).",
        [Unavailable, GameUnavailable, AuthUnavailable], retry_after;
}

/// `409 version_conflict`: the envelope plus the current `profile`.
pub struct VersionConflict;

impl<'r> ToResponse<'r> for VersionConflict {
    fn response() -> (&'r str, RefOr<response::Response>) {
        let extra = ObjectBuilder::new()
            .property("profile", Ref::from_schema_name(ProfileDoc::name()))
            .required("profile");
        let schema = envelope_with(&[ErrorCode::VersionConflict], ObjectBuilder::new(), extra);
        let response = error_response(
            "The profile changed since the version in `If-Match` (`version_conflict`); \
             `profile` is the current one: re-read, then retry.",
            schema,
        );
        ("VersionConflict", response.build().into())
    }
}

/// `503 not_ready` with the failing dependencies.
pub struct NotReady;

impl<'r> ToResponse<'r> for NotReady {
    fn response() -> (&'r str, RefOr<response::Response>) {
        let state = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(["ok", "unreachable"]));
        let details = ObjectBuilder::new()
            .property(
                "failing",
                ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)),
            )
            .required("failing")
            .property(
                "checks",
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .additional_properties(Some(state)),
            )
            .required("checks");
        let error = ObjectBuilder::new()
            .property("details", details)
            .required("details");
        let schema = envelope_with(&[ErrorCode::NotReady], error, ObjectBuilder::new());
        let response = error_response(
            "A dependency does not answer (`not_ready`); `details.failing` names it.",
            schema,
        );
        ("NotReady", response.build().into())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn doc() -> Value {
        serde_json::to_value(document()).unwrap()
    }

    fn keys(value: &Value) -> BTreeSet<String> {
        value.as_object().unwrap().keys().cloned().collect()
    }

    /// Every operation of the document with its path and method.
    fn operations(doc: &Value) -> Vec<(String, String, Value)> {
        let mut all = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                all.push((path.clone(), method.clone(), operation.clone()));
            }
        }
        all
    }

    #[test]
    fn the_profile_schema_mirrors_what_profiles_serialize() {
        let profile = crate::Profile {
            user_id: Uuid::nil(),
            display_name: "Rose".into(),
            kind: "guest".into(),
            version: 1,
            created_at: "2025-01-01T00:00:00Z".into(),
            updated_at: "2025-01-01T00:00:00Z".into(),
        };
        let doc = doc();
        let schema = &doc["components"]["schemas"]["Profile"];
        let served = keys(&serde_json::to_value(profile).unwrap());
        assert_eq!(keys(&schema["properties"]), served);
        let required: BTreeSet<String> =
            serde_json::from_value(schema["required"].clone()).unwrap();
        assert_eq!(required, served);
    }

    #[test]
    fn every_error_response_carries_only_codes_of_its_status() {
        let doc = doc();
        let components = &doc["components"]["responses"];
        let mut checked = 0;
        for (path, method, operation) in operations(&doc) {
            for (status, response) in operation["responses"].as_object().unwrap() {
                let Some(reference) = response["$ref"].as_str() else {
                    assert!(
                        status.starts_with('2'),
                        "{method} {path} {status}: errors use a response component"
                    );
                    continue;
                };
                let name = reference.trim_start_matches("#/components/responses/");
                let schema = &components[name]["content"]["application/json"]["schema"];
                assert_eq!(
                    schema["allOf"][0]["$ref"], "#/components/schemas/ErrorEnvelope",
                    "{name}"
                );
                let codes = schema["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{name} narrows the code"));
                for code in codes {
                    let code = ErrorCode::from_wire(code.as_str().unwrap())
                        .unwrap_or_else(|| panic!("{name}: {code} is not in the catalogue"));
                    assert_eq!(
                        code.status().as_str(),
                        status,
                        "{method} {path}: {code} is never answered with {status}"
                    );
                }
                checked += 1;
            }
        }
        assert!(checked > 50, "{checked}");
    }

    #[test]
    fn request_bodies_refuse_unknown_fields_and_json_routes_document_their_rejections() {
        let doc = doc();
        for (path, method, operation) in operations(&doc) {
            let Some(body) = operation.get("requestBody") else {
                continue;
            };
            let reference = body["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}: a named request schema"));
            let name = reference.trim_start_matches("#/components/schemas/");
            assert_eq!(
                doc["components"]["schemas"][name]["additionalProperties"], false,
                "{name} is deny_unknown_fields"
            );
            let responses = &operation["responses"];
            for status in ["400", "413"] {
                assert!(responses.get(status).is_some(), "{method} {path} {status}");
            }
            // Guest init and the table routes read raw bytes, so they have no content-type
            // check; every other body goes through `ApiJson`.
            let raw = path == "/v1/guest/init" || tables::OPTIONAL_BODIES.contains(&path.as_str());
            assert_eq!(responses.get("415").is_some(), !raw, "{method} {path} 415");
            // An omitted body is the same as `{}` exactly where the handler reads raw bytes.
            assert_eq!(body["required"] == false, raw, "{method} {path} required");
        }
    }

    #[test]
    fn secured_operations_use_the_bearer_scheme_and_document_401() {
        let doc = doc();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(
            doc["components"]["securitySchemes"][BEARER]["scheme"],
            "bearer"
        );
        let mut secured = 0;
        for (path, method, operation) in operations(&doc) {
            let Some(security) = operation.get("security") else {
                continue;
            };
            assert!(
                security
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s.get(BEARER).is_some()),
                "{method} {path}"
            );
            assert!(
                operation["responses"].get("401").is_some(),
                "{method} {path}"
            );
            secured += 1;
        }
        assert_eq!(
            secured, 11,
            "password, accounts, logout, profile x2, public profile, tickets x3, tables x2"
        );
    }

    #[test]
    fn links_use_openapi_field_names() {
        let doc = doc();
        let links = &doc["paths"]["/v1/guest/init"]["post"]["responses"]["201"]["links"];
        assert_eq!(links["GuestLogin"]["operationId"], "guest_login");
        assert!(links["GuestLogin"]["requestBody"].is_object());
        assert!(links["GuestLogin"].get("operation_id").is_none());
        let ids: BTreeSet<String> = operations(&doc)
            .into_iter()
            .map(|(_, _, op)| op["operationId"].as_str().unwrap().to_owned())
            .collect();
        for (_, _, operation) in operations(&doc) {
            for response in operation["responses"].as_object().unwrap().values() {
                for link in response["links"]
                    .as_object()
                    .into_iter()
                    .flat_map(|l| l.values())
                {
                    assert!(
                        ids.contains(link["operationId"].as_str().unwrap()),
                        "{link}"
                    );
                }
            }
        }
    }
}
