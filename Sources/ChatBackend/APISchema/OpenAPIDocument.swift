/// The API's OpenAPI 3 document: written once, here, as YAML; the JSON form served at
/// `/apischema/openapi.json` is derived from this text, so the two forms cannot disagree.
///
/// Keep it in step with the routes: `APISchemaTests` fails when a registered route is missing here
/// or a documented one is not registered, and `scripts/check-openapi.sh` validates the document and
/// fuzzes a live server against it. Quote every mapping key that YAML would read as a number
/// (`'200':`) and every value that YAML 1.1 would read as a boolean, number or date: the JSON form
/// refuses such keys, and both forms must read the same in any YAML parser.
enum OpenAPIDocument {
    /// The document, as served at `/apischema/openapi.yaml`.
    static let yaml = #"""
        openapi: 3.0.3
        info:
          title: ChatBackend API
          version: '1.0.0'
          description: |-
            A chat server for private and group chats: a REST API under `/api/` and one WebSocket per
            open chat under `/ws/chat/{uuid}/`, wire-compatible with the original Django back-end.

            **Authentication.** Send `Authorization: Token <key>` (or `Bearer <key>`); a key comes from
            registration, log-in or Google sign-in. In this page's *Authorize* dialog, type the whole
            value, `Token <key>`. Without credentials a protected route answers
            `401 {"detail": "Authentication credentials were not provided."}`, with a bad or revoked key
            `401 {"detail": "Invalid token."}`, both with `WWW-Authenticate: Token`.

            **Errors** follow Django REST Framework's shapes: `{"detail": "..."}` for errors not about a
            field (unknown object: `404 {"detail": "Not found."}`, a body that is not JSON:
            `400 {"detail": "JSON parse error: ..."}`), `{"<field>": ["message", ...]}` and
            `{"non_field_errors": ["message", ...]}` for validation errors, and
            `{"error": "No access!"}` for a chat route used by someone who is not in the chat. Some
            answers have an empty body, as in the original: they are listed without content. An unknown
            route, or a method a route does not serve, answers `404 {"detail": "Not found."}`; `GET` of
            `login/` and `logout/` answers `405 {"detail": "Method \"GET\" not allowed."}`, as in the
            original. Request bodies are at most 64 KiB (`413` beyond).

            **Lists** are limit/offset paginated (`?limit=` default 8, at most 100; `?offset=`), answered
            `{"count", "next", "previous", "results"}` with absolute `next`/`previous` links, or
            `204 No Content` (empty body) when the list is empty.

            **Date-times** in REST bodies are RFC 3339 with microseconds (`2020-08-06T19:46:06.123456Z`);
            message time stamps keep the original's form (`2020-08-06 19:46:06.123456+00:00`).

            **Real time**: the chat socket's protocol (commands, frames, error frame, close codes,
            handshake refusals) is described under the tag *sockets*, with the route
            `GET /ws/chat/{uuid}/`.
        servers:
          - url: /
        tags:
          - name: accounts
            description: Registration, e-mail confirmation, log-in and log-out, password change, Google sign-in.
          - name: users
            description: The caller, other users, friends and invitations. Every route needs a token.
          - name: chats
            description: The caller's chats, group creation, chat detail, adding friends, message search. Every route needs a token.
          - name: sockets
            description: |-
              ## The chat socket: `/ws/chat/{uuid}/`

              One WebSocket per open chat. Only the chat's participants may connect. Authenticate the
              upgrade request with `Authorization: Token <key>`, or with `?token=<key>` in the URL
              (browsers cannot set headers on a socket).

              **Handshake refusals** are plain HTTP answers with a `{"detail"}` body and the connection
              closed: `401` (no or bad token), `404` (no such chat), `403` (not a participant). A plain
              GET without an upgrade, by a participant, answers `426`.

              **Frames** are JSON text frames of at most 64 KiB (65536 bytes).

              ### Commands from the client

              - `{"command": "fetch_messages", "last_message_time_stamp": "0"}`: the newest 15 messages.
                To page further back, send the `last_message_time_stamp` of the previous answer (any
                ISO 8601 date-time is accepted), and optionally its `last_message_id`, which pages
                without gap or repeat even when messages share a time stamp. The answer goes to this
                socket only:
                `{"command": "fetch_messages", "messages": [Message, ...], "last_message_time_stamp": "<oldest in page>", "last_message_id": <id>}`,
                messages newest first, plus `"error": "LAST PACKAGE"` when fewer than 15 came back, or
                `"error": "NO MESSAGES"` when none did (then `last_message_time_stamp` is the one given).
              - `{"command": "new_message", "message": "<text>"}`: 1 to 4096 characters, not only white
                space. The message is stored, then every socket connected to the chat, the sender's
                included, receives `{"command": "new_message", "message": Message}`, each participant in
                the order of the chat's history.

              A Message is `{"author_id": <user id>, "content": "<text>", "time_stamp": "2020-08-06 19:46:06.123456+00:00", "id": <message id>}`.
              The frames are described as schemas too: `SocketFetchMessages`, `SocketNewMessage`,
              `SocketHistoryPage`, `SocketMessageBroadcast` and `SocketError`.

              ### Error frame

              A malformed frame (not JSON, not a JSON object, an unknown command, a missing or mistyped
              field, an empty or over-long message, a binary frame) is answered, to its sender only,
              `{"command": "error", "error": "<what was wrong>"}`. The socket stays open and nobody else
              hears of it.

              ### Close codes

              - `1001` (going away): the server is shutting down.
              - `1008` (policy violation): the client stopped reading and 1024 frames queued up for it.
              - `1009` (message too big): a frame or message over 64 KiB; only that socket is closed.
          - name: documentation
            description: This document and a page that shows it.
        security:
          - TokenAuth: []
        paths:
          /api/rest-auth/registration/:
            post:
              tags: [accounts]
              operationId: register
              summary: Register with an e-mail address and a password
              description: |-
                Creates an account and a token, and sends a confirmation e-mail. The username defaults to
                the part of the e-mail before `@`. When the server requires e-mail verification, the answer
                is `{"detail": "Verification e-mail sent."}` instead of a key.
              security: []
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/RegistrationRequest'
              responses:
                '201':
                  description: Registered.
                  content:
                    application/json:
                      schema:
                        oneOf:
                          - $ref: '#/components/schemas/Key'
                          - $ref: '#/components/schemas/Detail'
                '400':
                  $ref: '#/components/responses/ValidationFailed'
                '413':
                  $ref: '#/components/responses/TooLarge'
          /api/rest-auth/registration/resend-email/:
            post:
              tags: [accounts]
              operationId: resendConfirmationEmail
              summary: Send the confirmation e-mail again
              description: The same answer whether or not the address has an account.
              security: []
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/EmailRequest'
              responses:
                '200':
                  description: Sent, if the address has an unconfirmed account.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Detail'
                '400':
                  $ref: '#/components/responses/ValidationFailed'
                '413':
                  $ref: '#/components/responses/TooLarge'
          /api/rest-auth/registration/verify-email/:
            post:
              tags: [accounts]
              operationId: verifyEmail
              summary: Confirm an e-mail address with the key of the confirmation e-mail
              security: []
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/KeyRequest'
              responses:
                '200':
                  description: 'Confirmed (`{"detail": "ok"}`).'
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Detail'
                '400':
                  $ref: '#/components/responses/ValidationFailed'
                '404':
                  $ref: '#/components/responses/NotFound'
                '413':
                  $ref: '#/components/responses/TooLarge'
          /api/rest-auth/registration/account-confirm-email/{key}/:
            get:
              tags: [accounts]
              operationId: confirmEmailLink
              summary: The link of the confirmation e-mail
              security: []
              parameters:
                - name: key
                  in: path
                  required: true
                  description: The confirmation key.
                  schema:
                    type: string
              responses:
                '200':
                  description: Whether the key confirmed an address.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Confirmation'
          /api/rest-auth/login/:
            post:
              tags: [accounts]
              operationId: logIn
              summary: Log in with e-mail and password
              description: Each log-in issues a new token, so logging out one device leaves the others signed in.
              security: []
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/LoginRequest'
              responses:
                '200':
                  description: Logged in.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Key'
                '400':
                  $ref: '#/components/responses/ValidationFailed'
                '413':
                  $ref: '#/components/responses/TooLarge'
            get:
              tags: [accounts]
              operationId: logInWithGet
              summary: Not allowed (as in the original)
              security: []
              responses:
                '405':
                  $ref: '#/components/responses/MethodNotAllowed'
          /api/rest-auth/logout/:
            post:
              tags: [accounts]
              operationId: logOut
              summary: Log out, revoking the token used
              description: Answers 200 without a token too; a bad token answers 401.
              security:
                - {}
                - TokenAuth: []
              responses:
                '200':
                  description: 'Logged out (`{"detail": "Successfully logged out."}`).'
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Detail'
                '401':
                  $ref: '#/components/responses/Unauthorized'
            get:
              tags: [accounts]
              operationId: logOutWithGet
              summary: Not allowed (as in the original)
              security: []
              responses:
                '405':
                  $ref: '#/components/responses/MethodNotAllowed'
          /api/rest-auth/password/change/:
            post:
              tags: [accounts]
              operationId: changePassword
              summary: Change the caller's password
              description: |-
                Signs out the caller's other devices (their tokens are revoked); the token used stays
                valid. `old_password` is required only when the server is configured to ask for it.
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/PasswordChangeRequest'
              responses:
                '200':
                  description: 'Saved (`{"detail": "New password has been saved."}`).'
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Detail'
                '400':
                  $ref: '#/components/responses/ValidationFailed'
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '413':
                  $ref: '#/components/responses/TooLarge'
          /api/rest-auth/google/:
            post:
              tags: [accounts]
              operationId: signInWithGoogle
              summary: Trade a Google ID token (or access token) for an API token
              description: |-
                Signs in the Google account's user, created on first sign-in. Send `id_token` (a Google ID
                token, a JWT) or `access_token`. A server without Google client IDs configured answers 400.
              security: []
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/GoogleSignInRequest'
              responses:
                '200':
                  description: Signed in.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Key'
                '400':
                  $ref: '#/components/responses/ValidationFailed'
                '413':
                  $ref: '#/components/responses/TooLarge'
                '503':
                  description: Google could not be reached; try again shortly.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Detail'
          /api/user/currentuser/:
            get:
              tags: [users]
              operationId: currentUser
              summary: The caller
              responses:
                '200':
                  description: The caller.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/User'
                  links:
                    GetUser:
                      operationId: user
                      parameters:
                        uuid: '$response.body#/uuid'
                      description: The caller, by uuid.
                '401':
                  $ref: '#/components/responses/Unauthorized'
          /api/user/{uuid}/:
            get:
              tags: [users]
              operationId: user
              summary: A user
              parameters:
                - $ref: '#/components/parameters/UserUUID'
              responses:
                '200':
                  description: The user.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/User'
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '404':
                  $ref: '#/components/responses/NotFound'
          /api/user/search/{phrase}/:
            get:
              tags: [users]
              operationId: searchUsers
              summary: Users whose username contains a phrase (case-insensitive)
              parameters:
                - $ref: '#/components/parameters/Phrase'
                - $ref: '#/components/parameters/Limit'
                - $ref: '#/components/parameters/Offset'
              responses:
                '200':
                  description: A page of users, each with whether the caller is their friend.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/UserSearchPage'
                '204':
                  description: No user matches (empty body).
                '400':
                  $ref: '#/components/responses/ValidationFailed'
                '401':
                  $ref: '#/components/responses/Unauthorized'
          /api/user/friends/:
            get:
              tags: [users]
              operationId: friends
              summary: The caller's friends (accepted invitations, either way)
              parameters:
                - $ref: '#/components/parameters/Limit'
                - $ref: '#/components/parameters/Offset'
              responses:
                '200':
                  description: A page of friends.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/UserPage'
                '204':
                  description: No friends (empty body).
                '401':
                  $ref: '#/components/responses/Unauthorized'
            post:
              tags: [users]
              operationId: invite
              summary: Invite a user to be a friend
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/UserReference'
              responses:
                '201':
                  description: Invited (empty body).
                '400':
                  description: A missing or malformed `user_uuid`, or the caller's own.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/BadRequest'
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '404':
                  $ref: '#/components/responses/NotFound'
                '406':
                  description: Friends already, or an invitation exists either way (empty body).
                '413':
                  $ref: '#/components/responses/TooLarge'
          /api/user/invitations/:
            get:
              tags: [users]
              operationId: invitations
              summary: Invitations the caller received and has not answered (not paginated)
              responses:
                '200':
                  description: The invitations.
                  content:
                    application/json:
                      schema:
                        type: array
                        minItems: 1
                        items:
                          $ref: '#/components/schemas/Invitation'
                '204':
                  description: No invitation (empty body).
                '401':
                  $ref: '#/components/responses/Unauthorized'
            post:
              tags: [users]
              operationId: answerInvitation
              summary: Accept or decline an invitation (its invitee only)
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/InvitationAnswer'
              responses:
                '200':
                  description: Declined; the invitation is deleted (empty body).
                '201':
                  description: Accepted; the new private chat.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/ChatDetail'
                  links:
                    GetChat:
                      operationId: chat
                      parameters:
                        uuid: '$response.body#/uuid'
                      description: The new chat.
                    SearchMessages:
                      operationId: searchMessages
                      parameters:
                        uuid: '$response.body#/uuid'
                      description: Search the new chat's messages.
                    OpenSocket:
                      operationId: chatSocket
                      parameters:
                        uuid: '$response.body#/uuid'
                      description: The new chat's socket.
                '208':
                  description: Accepted already (empty body).
                '400':
                  description: A bad body (empty body).
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '404':
                  $ref: '#/components/responses/NotFound'
                '413':
                  $ref: '#/components/responses/TooLarge'
          /api/chat/mychats/:
            get:
              tags: [chats]
              operationId: myChats
              summary: The caller's chats, newest activity first
              parameters:
                - $ref: '#/components/parameters/Limit'
                - $ref: '#/components/parameters/Offset'
              responses:
                '200':
                  description: A page of chats.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/ChatPage'
                '204':
                  description: No chats (empty body).
                '401':
                  $ref: '#/components/responses/Unauthorized'
            post:
              tags: [chats]
              operationId: createChatWithoutType
              summary: Always refused; create a group with `POST /api/chat/mychats/groups/`
              responses:
                '400':
                  description: Refused (empty body).
                '401':
                  $ref: '#/components/responses/Unauthorized'
          /api/chat/mychats/{type}/:
            get:
              tags: [chats]
              operationId: myChatsOfType
              summary: The caller's private chats or group chats, newest activity first
              parameters:
                - name: type
                  in: path
                  required: true
                  description: '`private` or `groups`; another type answers 400 (empty body).'
                  schema:
                    type: string
                    enum: [private, groups]
                - $ref: '#/components/parameters/Limit'
                - $ref: '#/components/parameters/Offset'
              responses:
                '200':
                  description: A page of chats.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/ChatPage'
                '204':
                  description: No chats of that type (empty body).
                '400':
                  description: Another type (empty body).
                '401':
                  $ref: '#/components/responses/Unauthorized'
            post:
              tags: [chats]
              operationId: createGroup
              summary: Create a group chat, the caller its first participant
              parameters:
                - name: type
                  in: path
                  required: true
                  description: '`groups`; another type answers 400 (empty body).'
                  schema:
                    type: string
                    enum: [groups]
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/GroupRequest'
              responses:
                '201':
                  description: The new group chat.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/ChatDetail'
                  links:
                    GetChat:
                      operationId: chat
                      parameters:
                        uuid: '$response.body#/uuid'
                      description: The new chat.
                    AddParticipant:
                      operationId: addParticipant
                      parameters:
                        uuid: '$response.body#/uuid'
                      description: Add a friend to the new chat.
                    SearchMessages:
                      operationId: searchMessages
                      parameters:
                        uuid: '$response.body#/uuid'
                      description: Search the new chat's messages.
                    OpenSocket:
                      operationId: chatSocket
                      parameters:
                        uuid: '$response.body#/uuid'
                      description: The new chat's socket.
                '400':
                  description: Another type, a missing, empty or over-long name, or a body that is not a JSON object (empty body, as in the original).
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '413':
                  $ref: '#/components/responses/TooLarge'
          /api/chat/{uuid}/:
            get:
              tags: [chats]
              operationId: chat
              summary: A chat the caller takes part in
              parameters:
                - $ref: '#/components/parameters/ChatUUID'
              responses:
                '200':
                  description: The chat, with its participants.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/ChatDetail'
                '400':
                  $ref: '#/components/responses/NoAccess'
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '404':
                  $ref: '#/components/responses/NotFound'
            post:
              tags: [chats]
              operationId: addParticipant
              summary: Add a friend of the caller to a group chat
              parameters:
                - $ref: '#/components/parameters/ChatUUID'
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/UserReference'
              responses:
                '200':
                  description: Added (empty body).
                '400':
                  description: |-
                    The caller is not in the chat (`{"error": "No access!"}`), a missing or malformed
                    `user_uuid` (`{"user_uuid": [...]}`), or, with an empty body as in the original, the
                    user is not the caller's friend.
                  content:
                    application/json:
                      schema:
                        anyOf:
                          - $ref: '#/components/schemas/NoAccess'
                          - $ref: '#/components/schemas/BadRequest'
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '404':
                  $ref: '#/components/responses/NotFound'
                '406':
                  description: A participant already, the caller themself, or a private chat (empty body).
                '413':
                  $ref: '#/components/responses/TooLarge'
          /api/chat/{uuid}/search/{phrase}/:
            get:
              tags: [chats]
              operationId: searchMessages
              summary: Messages of a chat containing a phrase (case-insensitive), newest first
              parameters:
                - $ref: '#/components/parameters/ChatUUID'
                - $ref: '#/components/parameters/Phrase'
                - $ref: '#/components/parameters/Limit'
                - $ref: '#/components/parameters/Offset'
              responses:
                '200':
                  description: A page of messages.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/MessagePage'
                '204':
                  description: No message matches (empty body).
                '400':
                  description: The caller is not in the chat, or the phrase is too long.
                  content:
                    application/json:
                      schema:
                        anyOf:
                          - $ref: '#/components/schemas/NoAccess'
                          - $ref: '#/components/schemas/FieldErrors'
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '404':
                  $ref: '#/components/responses/NotFound'
          /ws/chat/{uuid}/:
            get:
              tags: [sockets]
              operationId: chatSocket
              summary: The chat's WebSocket (see the tag *sockets* for its protocol)
              description: |-
                Open with a WebSocket upgrade request (`Upgrade: websocket`), authenticated with
                `Authorization: Token <key>` or `?token=<key>`. The frames, commands, error frame and
                close codes are described under the tag *sockets*. Refusals are answered at the handshake.
              security:
                - TokenAuth: []
                - TokenQuery: []
              parameters:
                - $ref: '#/components/parameters/ChatUUID'
              responses:
                '101':
                  description: Switching protocols; the socket is open.
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '403':
                  description: The caller does not take part in the chat.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Detail'
                '404':
                  $ref: '#/components/responses/NotFound'
                '426':
                  description: A participant's plain GET, without an upgrade.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Detail'
          /apischema/:
            get:
              tags: [documentation]
              operationId: apiDocumentationPage
              summary: This document, shown to people (Swagger UI)
              security: []
              responses:
                '200':
                  description: An HTML page that loads Swagger UI from its public CDN.
                  content:
                    text/html:
                      schema:
                        type: string
          /apischema/openapi.json:
            get:
              tags: [documentation]
              operationId: openAPIDocumentJSON
              summary: This document, as JSON
              security: []
              responses:
                '200':
                  description: The OpenAPI document.
                  content:
                    application/json:
                      schema:
                        type: object
          /apischema/openapi.yaml:
            get:
              tags: [documentation]
              operationId: openAPIDocumentYAML
              summary: This document, as YAML (the form it is written in)
              security: []
              responses:
                '200':
                  description: The OpenAPI document.
                  content:
                    application/yaml:
                      schema:
                        type: object
        components:
          securitySchemes:
            TokenAuth:
              type: apiKey
              in: header
              name: Authorization
              description: '`Token <key>` (DRF style) or `Bearer <key>`, where the key is 40 hex characters.'
            TokenQuery:
              type: apiKey
              in: query
              name: token
              description: 'The chat socket only, for browsers: `?token=<key>`.'
          parameters:
            UserUUID:
              name: uuid
              in: path
              required: true
              description: The user's uuid.
              schema:
                type: string
                format: uuid
            ChatUUID:
              name: uuid
              in: path
              required: true
              description: The chat's uuid.
              schema:
                type: string
                format: uuid
            Phrase:
              name: phrase
              in: path
              required: true
              description: The text to look for, 1 to 100 characters.
              schema:
                type: string
                minLength: 1
                maxLength: 100
            Limit:
              name: limit
              in: query
              required: false
              description: |-
                Page size, capped at 100. As in Django REST Framework, a value that is not a positive
                integer is ignored and the default applies.
              schema:
                type: integer
                minimum: 1
                default: 8
            Offset:
              name: offset
              in: query
              required: false
              description: |-
                How many items to skip. As in Django REST Framework, a value that is not a non-negative
                integer is ignored and 0 applies.
              schema:
                type: integer
                minimum: 0
                default: 0
          responses:
            ValidationFailed:
              description: |-
                Validation failed: `{"<field>": ["message", ...]}` and/or `{"non_field_errors": ["message", ...]}`,
                or `{"detail": "..."}` for a body that is not JSON.
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/BadRequest'
            Unauthorized:
              description: No credentials, or a bad or revoked token.
              headers:
                WWW-Authenticate:
                  description: The scheme to authenticate with.
                  schema:
                    type: string
                    enum: [Token]
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Detail'
            NotFound:
              description: 'No such object (`{"detail": "Not found."}`).'
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Detail'
            NoAccess:
              description: The caller does not take part in the chat.
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/NoAccess'
            MethodNotAllowed:
              description: This method is not served on this route.
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Detail'
            TooLarge:
              description: The request body is over 64 KiB.
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Detail'
          schemas:
            Key:
              type: object
              description: 'A token key, for `Authorization: Token <key>`.'
              required: [key]
              additionalProperties: false
              properties:
                key:
                  type: string
                  pattern: '^[0-9a-f]{40}$'
            Detail:
              type: object
              description: A message not about a field.
              required: [detail]
              additionalProperties: false
              properties:
                detail:
                  type: string
            FieldErrors:
              type: object
              description: |-
                Messages per field, and `non_field_errors` for messages about the request as a whole:
                `{"email": ["A user is already registered with this e-mail address."]}`,
                `{"non_field_errors": ["Unable to log in with provided credentials."]}`.
              minProperties: 1
              additionalProperties:
                type: array
                minItems: 1
                items:
                  type: string
            BadRequest:
              description: A validation error, or `{"detail"}` for a body that is not JSON.
              anyOf:
                - $ref: '#/components/schemas/FieldErrors'
                - $ref: '#/components/schemas/Detail'
            NoAccess:
              type: object
              required: [error]
              additionalProperties: false
              properties:
                error:
                  type: string
                  enum: ['No access!']
            Confirmation:
              type: object
              required: [confirmed]
              additionalProperties: false
              properties:
                confirmed:
                  type: boolean
            RegistrationRequest:
              type: object
              required: [email, password1, password2]
              properties:
                email:
                  type: string
                  format: email
                  maxLength: 254
                password1:
                  type: string
                  minLength: 8
                  maxLength: 128
                  description: At least 8 characters, not too common, not entirely numeric, not too similar to the username or e-mail.
                password2:
                  type: string
                  minLength: 8
                  maxLength: 128
                  description: The same password again.
                username:
                  type: string
                  minLength: 1
                  maxLength: 150
                  pattern: '^[\w.@+-]+$'
                  description: Letters, digits and `@ . + - _`; defaults to the part of the e-mail before `@`.
            EmailRequest:
              type: object
              required: [email]
              properties:
                email:
                  type: string
                  format: email
                  maxLength: 254
            KeyRequest:
              type: object
              required: [key]
              properties:
                key:
                  type: string
                  minLength: 1
                  maxLength: 256
                  description: The key of the confirmation e-mail.
            LoginRequest:
              type: object
              required: [email, password]
              properties:
                email:
                  type: string
                  minLength: 1
                  maxLength: 254
                password:
                  type: string
                  minLength: 1
                  maxLength: 128
            PasswordChangeRequest:
              type: object
              required: [new_password1, new_password2]
              properties:
                old_password:
                  type: string
                  maxLength: 128
                  description: Required only when the server is configured to ask for it.
                new_password1:
                  type: string
                  minLength: 8
                  maxLength: 128
                new_password2:
                  type: string
                  minLength: 8
                  maxLength: 128
            GoogleSignInRequest:
              type: object
              description: One of the two tokens Google gives a client.
              properties:
                id_token:
                  type: string
                  minLength: 1
                  maxLength: 8192
                  description: A Google ID token (a JWT).
                access_token:
                  type: string
                  minLength: 1
                  maxLength: 4096
                  description: A Google OAuth access token.
            UserReference:
              type: object
              required: [user_uuid]
              properties:
                user_uuid:
                  type: string
                  format: uuid
            InvitationAnswer:
              type: object
              required: [contact_id, decision]
              properties:
                contact_id:
                  type: integer
                  format: int64
                  minimum: 1
                  maximum: 9223372036854775807
                  description: The invitation's `id`.
                decision:
                  type: boolean
                  description: true accepts, false declines.
            GroupRequest:
              type: object
              required: [name]
              properties:
                name:
                  type: string
                  minLength: 1
                  maxLength: 50
            User:
              type: object
              required: [email, id, uuid, username, photo, is_active]
              additionalProperties: false
              properties:
                email:
                  type: string
                id:
                  type: integer
                uuid:
                  type: string
                  format: uuid
                username:
                  type: string
                photo:
                  type: string
                  nullable: true
                  description: A URL, or null.
                is_active:
                  type: boolean
            UserSearchResult:
              type: object
              required: [email, id, uuid, username, photo, is_active, is_friend_of_current_user]
              additionalProperties: false
              properties:
                email:
                  type: string
                id:
                  type: integer
                uuid:
                  type: string
                  format: uuid
                username:
                  type: string
                photo:
                  type: string
                  nullable: true
                is_active:
                  type: boolean
                is_friend_of_current_user:
                  type: boolean
            Invitation:
              type: object
              required: [id, first_user, second_user]
              additionalProperties: false
              properties:
                id:
                  type: integer
                  description: The `contact_id` to answer with.
                first_user:
                  type: string
                  description: The inviter's username.
                second_user:
                  type: string
                  description: The invitee's (the caller's) username.
            Chat:
              type: object
              required: [id, uuid, name, is_group_chat, last_activity_date, lastmessage]
              additionalProperties: false
              properties:
                id:
                  type: integer
                uuid:
                  type: string
                  format: uuid
                name:
                  type: string
                  nullable: true
                  description: The group's name; null for a private chat.
                is_group_chat:
                  type: boolean
                last_activity_date:
                  type: string
                  format: date-time
                lastmessage:
                  type: string
                  nullable: true
                  description: The newest message's content; null when the chat has none.
            ChatDetail:
              type: object
              required: [id, uuid, name, is_group_chat, participants, last_activity_date, lastmessage]
              additionalProperties: false
              properties:
                id:
                  type: integer
                uuid:
                  type: string
                  format: uuid
                name:
                  type: string
                  nullable: true
                is_group_chat:
                  type: boolean
                participants:
                  type: array
                  description: The absolute URLs of the participants' `/api/user/{uuid}/`.
                  items:
                    type: string
                    format: uri
                last_activity_date:
                  type: string
                  format: date-time
                lastmessage:
                  type: string
                  nullable: true
            Message:
              type: object
              required: [author_id, content, time_stamp, id]
              additionalProperties: false
              properties:
                author_id:
                  type: integer
                  description: The author's user id.
                content:
                  type: string
                time_stamp:
                  type: string
                  description: The original's form, `2020-08-06 19:46:06.123456+00:00`; hand it back as a paging cursor.
                  pattern: '^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}\+00:00$'
                id:
                  type: integer
                  description: The message's id (additive), a paging cursor with `time_stamp`.
            UserPage:
              type: object
              description: A page of users.
              required: [count, next, previous, results]
              additionalProperties: false
              properties:
                count:
                  type: integer
                  minimum: 1
                  description: The length of the whole list.
                next:
                  type: string
                  format: uri
                  nullable: true
                  description: The absolute URL of the next page, or null.
                previous:
                  type: string
                  format: uri
                  nullable: true
                  description: The absolute URL of the previous page, or null.
                results:
                  type: array
                  items:
                    $ref: '#/components/schemas/User'
            UserSearchPage:
              type: object
              description: A page of users found.
              required: [count, next, previous, results]
              additionalProperties: false
              properties:
                count:
                  type: integer
                  minimum: 1
                  description: The length of the whole list.
                next:
                  type: string
                  format: uri
                  nullable: true
                  description: The absolute URL of the next page, or null.
                previous:
                  type: string
                  format: uri
                  nullable: true
                  description: The absolute URL of the previous page, or null.
                results:
                  type: array
                  items:
                    $ref: '#/components/schemas/UserSearchResult'
            ChatPage:
              type: object
              description: A page of chats.
              required: [count, next, previous, results]
              additionalProperties: false
              properties:
                count:
                  type: integer
                  minimum: 1
                  description: The length of the whole list.
                next:
                  type: string
                  format: uri
                  nullable: true
                  description: The absolute URL of the next page, or null.
                previous:
                  type: string
                  format: uri
                  nullable: true
                  description: The absolute URL of the previous page, or null.
                results:
                  type: array
                  items:
                    $ref: '#/components/schemas/Chat'
            MessagePage:
              type: object
              description: A page of messages.
              required: [count, next, previous, results]
              additionalProperties: false
              properties:
                count:
                  type: integer
                  minimum: 1
                  description: The length of the whole list.
                next:
                  type: string
                  format: uri
                  nullable: true
                  description: The absolute URL of the next page, or null.
                previous:
                  type: string
                  format: uri
                  nullable: true
                  description: The absolute URL of the previous page, or null.
                results:
                  type: array
                  items:
                    $ref: '#/components/schemas/Message'
            SocketFetchMessages:
              type: object
              description: 'Client frame: a page of the chat''s history, newest first.'
              required: [command, last_message_time_stamp]
              properties:
                command:
                  type: string
                  enum: [fetch_messages]
                last_message_time_stamp:
                  type: string
                  description: '"0" for the newest page, else the cursor of the previous answer (any ISO 8601 date-time).'
                last_message_id:
                  type: integer
                  nullable: true
                  description: The previous answer's `last_message_id`, for paging without gap or repeat.
            SocketNewMessage:
              type: object
              description: 'Client frame: post a message to the chat.'
              required: [command, message]
              properties:
                command:
                  type: string
                  enum: [new_message]
                message:
                  type: string
                  minLength: 1
                  maxLength: 4096
                  description: Not only white space.
            SocketHistoryPage:
              type: object
              description: 'Server frame, to the asking socket only: the answer to `fetch_messages`.'
              required: [command, messages, last_message_time_stamp]
              additionalProperties: false
              properties:
                command:
                  type: string
                  enum: [fetch_messages]
                messages:
                  type: array
                  maxItems: 15
                  items:
                    $ref: '#/components/schemas/Message'
                last_message_time_stamp:
                  type: string
                  description: The oldest message's time stamp in this page (the cursor given, when the page is empty).
                last_message_id:
                  type: integer
                  description: The oldest message's id in this page.
                error:
                  type: string
                  enum: [LAST PACKAGE, NO MESSAGES]
                  description: LAST PACKAGE when fewer than 15 messages came back; NO MESSAGES when none did.
            SocketMessageBroadcast:
              type: object
              description: 'Server frame, to every socket of the chat: a new message.'
              required: [command, message]
              additionalProperties: false
              properties:
                command:
                  type: string
                  enum: [new_message]
                message:
                  $ref: '#/components/schemas/Message'
            SocketError:
              type: object
              description: 'Server frame, to the sender only: what was wrong with a frame. The socket stays open.'
              required: [command, error]
              additionalProperties: false
              properties:
                command:
                  type: string
                  enum: [error]
                error:
                  type: string
        """#

    /// The document as JSON text, derived from ``yaml`` once; a failure (a malformed edit of the
    /// YAML) is kept rather than trapped, so the server still serves everything else.
    static let json: Result<String, any Error> = Result { try JSONValue(yaml: yaml).serialized }
}
