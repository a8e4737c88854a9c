package lang

// Variables documents the variables expressions may use, in the order the
// language reference lists them. Like the schema, it is the one description:
// hover and completion show it.
var Variables = []VariableDoc{
	{Name: "customer", Doc: "The customer's profile: `id` and the declared traits, e.g. `customer.email`."},
	{Name: "event", Doc: "The event being handled, in `entry`, `goal`, `exit` and `on` and their `when`: `event.NAME` is one of its properties."},
	{Name: "entry", Doc: "The event that admitted the customer to the journey: `entry.NAME` is one of its properties, available at every later step."},
	{Name: "now", Doc: "The current time as an RFC 3339 string in UTC."},
	{Name: "unsubscribe_url", Doc: "In send fields (and the templates they call): the customer's one-click unsubscribe link for the send's topic, e.g. `\"Unsubscribe: ${unsubscribe_url}\"`. The empty string for a send without a topic, and under `waymark test`."},
}

// VariableDoc documents one variable.
type VariableDoc struct {
	Name string
	Doc  string
}

// Variable returns the documentation of the named variable, or nil.
func Variable(name string) *VariableDoc {
	for i := range Variables {
		if Variables[i].Name == name {
			return &Variables[i]
		}
	}
	return nil
}
