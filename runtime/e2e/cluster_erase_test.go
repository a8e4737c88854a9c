package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestClusterErase: a customer signed up through one node is erased
// through another (DELETE goes through the inbox to the shard's owner),
// and is then gone from every node: document, list and sends.
func TestClusterErase(t *testing.T) {
	secret := "e2e-secret"
	hook := newReceiver(t, secret, 0, time.Millisecond)
	c := newCluster(t, hook, secret)
	a, b := c.start(), c.start()
	c.settled(a, c.nodes, time.Minute)
	ca, cb := newClient(a.base), newClient(b.base)
	id := "erase-me"
	if err := ca.batch(context.Background(), []call{{Type: "track", UserID: id, Event: "signed_up", MessageID: id + "/signed_up"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() error {
		doc, err := cb.tryCustomer(id)
		if err == nil && len(doc.Instances) == 0 {
			err = fmt.Errorf("%s has no instance yet", id)
		}
		return err
	})

	req, err := http.NewRequest("DELETE", b.base+"/v1/customers/"+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cb.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var e struct {
		Customer bool  `json:"customer"`
		History  int64 `json:"history"`
	}
	if res.StatusCode != 200 || json.Unmarshal(body, &e) != nil || !e.Customer || e.History == 0 {
		t.Fatalf("DELETE through node b: %d %s; want the customer and its history erased", res.StatusCode, body)
	}
	for _, cl := range []*client{ca, cb} {
		if _, err := cl.tryCustomer(id); err == nil {
			t.Errorf("%s: the erased customer is still there", cl.base)
		}
		var list struct {
			Customers []struct{ ID string } `json:"customers"`
		}
		cl.getJSON(t, "/v1/customers?q=id:"+id+"&limit=10", &list)
		if len(list.Customers) != 0 {
			t.Errorf("%s: the list still shows %v", cl.base, list.Customers)
		}
	}
}
