package server

// The admin API's documents, exported for the Go programs that read the
// API (the web console, runtime/console): the same types the handlers
// encode, so a reader cannot drift from the API. Aliases, so that the
// handlers keep their short names.
type (
	JourneysDoc    = journeysDoc
	JourneyDoc     = journeyDoc
	StageDoc       = stageDoc
	VersionDoc     = versionDoc
	CustomerDoc    = customerDoc
	InstanceDoc    = instanceDoc
	TransitionDoc  = transitionDoc
	SendDoc        = sendDoc
	DeadLettersDoc = deadLettersDoc
	RequeueDoc     = requeueDoc
	FailedSendsDoc = failedSendsDoc
)
