package sqlite

// customerPlans are the customer queries' plans, which TestQueryPlans
// checks: the index each one uses.
var customerPlans = map[string]string{
	qReceived:      "received_customer",
	qResponses:     "history_customer",
	qListCustomers: "sqlite_autoindex_customers_1",
	qReceivedChunk: "SEARCH received USING INTEGER PRIMARY KEY",
	qPruneReceived: "SEARCH received USING INTEGER PRIMARY KEY",
	qEraseCustomer: "sqlite_autoindex_customers_1",
	qEraseActive:   "PRIMARY KEY",
	qEraseHistory:  "history_customer",
	qEraseReceived: "received_customer",
	qEraseCount:    "sqlite_autoindex_outbox_1",
	qEraseOutbox:   "sqlite_autoindex_outbox_1",
	qDeliverable:   "sqlite_autoindex_outbox_1",
}
