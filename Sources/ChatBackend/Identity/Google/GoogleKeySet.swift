import AsyncHTTPClient
import Foundation
import JWTKit
import NIOCore
import NIOHTTP1

/// Google's signing keys (JWKS), fetched on demand and kept for the `max-age` Google gives.
///
/// A token naming a key we do not have triggers a refetch (Google rotates keys), at most once per
/// `minimumRefetchSeconds`, so a flood of forged key ids cannot make us hammer Google. While the
/// last fetch failed, a key we do not know may well be Google's: such tokens answer 503 (not "unknown
/// key"), and the next fetch is tried after `failedFetchRetrySeconds`. Callers arriving during a
/// fetch wait for it instead of starting their own.
actor GoogleKeySet {
    private let settings: GoogleSettings
    private let httpClient: HTTPClient
    private var keys: JWTKeyCollection?
    private var keyIDs: Set<String> = []
    private var expiry = Date.distantPast
    private var lastFetch = Date.distantPast
    private var lastFetchFailed = false
    private var fetching: Task<Void, any Error>?

    init(settings: GoogleSettings, httpClient: HTTPClient) {
        self.settings = settings
        self.httpClient = httpClient
    }

    /// The key collection holding `keyID`; throws `rejected` when Google does not publish it, and
    /// `unavailable` when Google's keys could not be fetched.
    func keys(containing keyID: String) async throws -> JWTKeyCollection {
        if let keys, Date() < expiry, keyIDs.contains(keyID) { return keys }
        if fetching != nil || mayFetch(now: Date()) {
            try await refresh()
        }
        guard let keys, keyIDs.contains(keyID) else {
            if lastFetchFailed { throw GoogleSignInError.unavailable("Google's keys could not be fetched") }
            throw GoogleSignInError.rejected("The Google token is signed with an unknown key.")
        }
        return keys
    }

    private func mayFetch(now: Date) -> Bool {
        let interval = lastFetchFailed ? settings.failedFetchRetrySeconds : settings.minimumRefetchSeconds
        return keys == nil || now >= expiry || now.timeIntervalSince(lastFetch) >= interval
    }

    /// Joins the fetch under way, or starts one.
    private func refresh() async throws {
        if let fetching { return try await fetching.value }
        let task = Task { try await fetch() }
        fetching = task
        defer { fetching = nil }
        try await task.value
    }

    private func fetch() async throws {
        lastFetch = Date()
        lastFetchFailed = true
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await httpClient.execute(HTTPClientRequest(url: settings.jwksURL), timeout: .seconds(settings.requestTimeoutSeconds))
            body = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw GoogleSignInError.unavailable("JWKS fetch failed: \(error)")
        }
        guard response.status == .ok else {
            throw GoogleSignInError.unavailable("JWKS fetch answered \(response.status.code)")
        }
        let jwks: JWKS
        do {
            jwks = try JSONDecoder().decode(JWKS.self, from: Data(buffer: body))
        } catch {
            throw GoogleSignInError.unavailable("JWKS is not valid JSON")
        }
        let collection = JWTKeyCollection()
        var ids: Set<String> = []
        for jwk in jwks.keys where jwk.keyType == .rsa {
            guard let kid = jwk.keyIdentifier else { continue }
            // Not default: a token naming an unknown key must fail, never fall back to some other key.
            try? await collection.add(jwk: jwk, isDefault: false)
            ids.insert(kid.string)
        }
        keys = collection
        keyIDs = ids
        lastFetchFailed = false
        expiry = Date().addingTimeInterval(Self.maxAge(response.headers) ?? 3600)
    }

    /// The `max-age` of a `Cache-Control` header.
    static func maxAge(_ headers: HTTPHeaders) -> TimeInterval? {
        for value in headers["Cache-Control"] {
            for directive in value.split(separator: ",") {
                let parts = directive.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].lowercased() == "max-age", let seconds = Double(parts[1]) { return seconds }
            }
        }
        return nil
    }
}
