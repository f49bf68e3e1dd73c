package resources

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/litentry/envctl/pkg/awsapi"
)

// Resolver is implemented by drivers that turn a desired value into the
// one AWS will hold, at plan time, so that the plan shows and compares the
// resolved value: the ec2_instance driver resolves an ami of the form
// ssm:<parameter> into the AMI id the parameter holds. Resolve returns a
// new map and leaves attrs unchanged; values it does not resolve (unknown
// ones included) are copied as they are.
type Resolver interface {
	Resolve(ctx context.Context, attrs Attrs) (Attrs, error)
}

const (
	// instSSMPrefix marks an ami given as an SSM parameter.
	instSSMPrefix = "ssm:"
	// instDefaultRootDevice is used when the AMI does not name its root device.
	instDefaultRootDevice = "/dev/xvda"
	// instTokenTries bounds the client tokens tried when earlier ones name
	// terminated instances.
	instTokenTries = 10
	// instDuplicatesNote is the Live.Notes key listing extra instances that
	// carry the same ownership tags.
	instDuplicatesNote = "duplicates"
	// instMaxUserData is AWS's limit on user data before base64 encoding.
	instMaxUserData = 16 * 1024
	// instIdempotentMismatch: a client token reused with other parameters.
	instIdempotentMismatch = "IdempotentParameterMismatch"
)

// Bounds on instance state changes; package variables so tests can shorten
// them.
var (
	instRunTimeout       = 10 * time.Minute
	instStopTimeout      = 10 * time.Minute
	instTerminateTimeout = 10 * time.Minute
	instWaitMinDelay     = 2 * time.Second
	instWaitMaxDelay     = 15 * time.Second
)

// instFindStates are the states of an instance that exists for envctl.
var instFindStates = []string{"pending", "running", "stopping", "stopped"}

// instAliveStates also count an instance still shutting down, which keeps
// using its security groups.
var instAliveStates = []string{"pending", "running", "shutting-down", "stopping", "stopped"}

var instanceSchema = &Schema{
	Type: "ec2_instance",
	Doc:  "An EC2 instance, found by envctl's ownership tags; replaced by creating the new one first.",
	Attrs: []Attr{
		{Name: "ami", Kind: String, Required: true, ForceNew: true, Check: instCheckAMI,
			Doc: "AMI id (ami-…) or ssm:<parameter> naming an SSM parameter that holds one, resolved at plan time."},
		{Name: "instance_type", Kind: String, Required: true, Check: instCheckType,
			UpdateNote: "changing instance_type stops the host, changes it and starts it again (the host restarts)",
			Doc:        "Instance type such as t3.micro; a change stops the instance, changes the type and starts it again."},
		{Name: "subnet_id", Kind: String, ForceNew: true, Check: instCheckSubnet,
			Doc: "Subnet to launch into, such as subnet-0123456789abcdef0; a default subnet of the default VPC when left out."},
		{Name: "security_groups", Kind: StringList, Check: instCheckGroups,
			Doc: "Ids of the security groups of the instance (usually ${sg.id}), compared as a set; the VPC's default group when left out."},
		{Name: "key_name", Kind: String, ForceNew: true, Check: instCheckKeyName,
			Doc: "Name of the EC2 key pair whose public key is installed for SSH."},
		{Name: "iam_instance_profile", Kind: String, Check: instCheckProfile,
			Doc: "Name of the IAM instance profile to attach; \"\" detaches it."},
		{Name: "root_volume_gb", Kind: Int, ForceNew: true, Check: instCheckRootSize,
			Doc: "Size of the root EBS volume in GiB; the AMI's size when left out."},
		{Name: "user_data", Kind: String, Sensitive: true, ForceNew: true, Check: instCheckUserData,
			Doc: "User data run at first boot (cloud-init), up to 16 KiB; user_data_file in the env file fills it from a file."},
		{Name: "tags", Kind: Tags, Doc: "Tags of the instance and its root volume, besides envctl's ownership tags."},
	},
	Exports:             []string{"id", "private_ip", "public_ip", "availability_zone"},
	CreateBeforeDestroy: true,
}

// instanceDriver manages an EC2 instance. Instances have no name AWS keeps
// unique, so the instance is found by its ownership tags (envctl:env and
// envctl:id) among instances that are not terminated.
//
// instance_type (stop, modify, start), security_groups,
// iam_instance_profile and tags update in place; ami, subnet_id, key_name,
// root_volume_gb and user_data force a replacement, which the engine does
// create-before-destroy.
type instanceDriver struct{ c *awsapi.Clients }

func newInstance(c *awsapi.Clients) Driver { return &instanceDriver{c: c} }

func (d *instanceDriver) Schema() *Schema { return instanceSchema }

var _ Resolver = (*instanceDriver)(nil)

// Resolve returns attrs with an ami of the form ssm:<parameter> replaced by
// the AMI id the parameter holds now.
func (d *instanceDriver) Resolve(ctx context.Context, attrs Attrs) (Attrs, error) {
	out := make(Attrs, len(attrs))
	for k, v := range attrs {
		out[k] = v
	}
	if s, ok := attrs["ami"].(string); ok && strings.HasPrefix(s, instSSMPrefix) {
		id, err := d.ResolveAMI(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("ami: %w", err)
		}
		out["ami"] = id
	}
	return out, nil
}

// ResolveAMI returns the AMI id value names: value itself when it is an AMI
// id, or the value of the SSM parameter when it reads ssm:<parameter>.
func (d *instanceDriver) ResolveAMI(ctx context.Context, value string) (string, error) {
	name, ok := strings.CutPrefix(value, instSSMPrefix)
	if !ok {
		return value, nil
	}
	out, err := d.c.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	if err != nil {
		if awsapi.IsNotFound(err) {
			return "", fmt.Errorf("SSM parameter %s does not exist in region %s", name, d.c.Region)
		}
		return "", fmt.Errorf("read SSM parameter %s: %w", name, err)
	}
	id := ""
	if out.Parameter != nil {
		id = aws.ToString(out.Parameter.Value)
	}
	if !instAMIID.MatchString(id) {
		return "", fmt.Errorf("SSM parameter %s holds %q, not an AMI id (ami-…)", name, id)
	}
	return id, nil
}

// Find returns the newest non-terminated instance carrying the target's
// ownership tags. Others with the same tags are listed, comma-separated,
// in Notes["duplicates"].
func (d *instanceDriver) Find(ctx context.Context, t Target) (*Live, error) {
	insts, err := ec2Instances(ctx, d.c.EC2, append(ec2OwnerFilters(t.Env, t.ID), ec2Filter("instance-state-name", instFindStates...)))
	if err != nil {
		return nil, fmt.Errorf("find instance %s/%s: %w", t.Env, t.ID, err)
	}
	if len(insts) == 0 {
		return nil, nil
	}
	sort.Slice(insts, func(i, j int) bool {
		a, b := aws.ToTime(insts[i].LaunchTime), aws.ToTime(insts[j].LaunchTime)
		if !a.Equal(b) {
			return a.After(b)
		}
		return aws.ToString(insts[i].InstanceId) > aws.ToString(insts[j].InstanceId)
	})
	lives, err := d.observe(ctx, insts[:1])
	if err != nil {
		return nil, fmt.Errorf("find instance %s/%s: %w", t.Env, t.ID, err)
	}
	live := lives[0]
	if len(insts) > 1 {
		var dups []string
		for _, in := range insts[1:] {
			dups = append(dups, aws.ToString(in.InstanceId))
		}
		sort.Strings(dups)
		live.Notes = map[string]string{instDuplicatesNote: strings.Join(dups, ",")}
	}
	return live, nil
}

// List returns every non-terminated instance tagged envctl:env=env.
func (d *instanceDriver) List(ctx context.Context, env string) ([]*Live, error) {
	insts, err := ec2Instances(ctx, d.c.EC2, []types.Filter{ec2Filter("tag:"+TagEnv, env), ec2Filter("instance-state-name", instFindStates...)})
	if err != nil {
		return nil, fmt.Errorf("list instances of env %s: %w", env, err)
	}
	out, err := d.observe(ctx, insts)
	if err != nil {
		return nil, fmt.Errorf("list instances of env %s: %w", env, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Handle < out[j].Handle })
	return out, nil
}

// Create launches the instance and waits until it runs. The launch carries
// a client token derived from the env, the id and the desired attributes,
// so a retry after a lost answer finds (or, on AWS, is handed) the instance
// the first attempt launched instead of launching a second one; a
// replacement, having other attributes, gets another token.
func (d *instanceDriver) Create(ctx context.Context, t Target) (*Live, error) {
	attrs, err := d.Resolve(ctx, t.Attrs)
	if err != nil {
		return nil, fmt.Errorf("create instance %s: %w", t.ID, err)
	}
	token := instClientToken(t.Env, t.ID, attrs)
	// An earlier attempt's instance carries the ownership tags and the token.
	owned, err := ec2Instances(ctx, d.c.EC2, ec2OwnerFilters(t.Env, t.ID))
	if err != nil {
		return nil, fmt.Errorf("create instance %s: look for an earlier launch: %w", t.ID, err)
	}
	var in *types.Instance
	for try := 0; try < instTokenTries && in == nil; try++ {
		tok := token
		if try > 0 {
			tok = fmt.Sprintf("%s-%d", token, try)
		}
		if prev, used := instByToken(owned, tok); used {
			if instAlive(prev) {
				in = prev
			}
			continue // that launch was terminated since: the next token
		}
		launched, err := d.run(ctx, attrs, tok)
		if awsapi.IsCode(err, instIdempotentMismatch) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("create instance %s: %w", t.ID, err)
		}
		if instAlive(launched) {
			in = launched
		}
		// AWS answers a token of a terminated instance with that instance.
	}
	if in == nil {
		return nil, fmt.Errorf("create instance %s: the first %d client tokens all name terminated instances", t.ID, instTokenTries)
	}
	id := aws.ToString(in.InstanceId)
	if err := d.waitRunning(ctx, id); err != nil {
		return nil, fmt.Errorf("create instance %s (%s): %w", t.ID, id, err)
	}
	live, err := d.read(ctx, id, true)
	if err != nil {
		return nil, fmt.Errorf("create instance %s (%s): read back: %w", t.ID, id, err)
	}
	return live, nil
}

// run calls RunInstances once with the given client token.
func (d *instanceDriver) run(ctx context.Context, attrs Attrs, token string) (*types.Instance, error) {
	ami, _ := attrs["ami"].(string)
	typ, _ := attrs["instance_type"].(string)
	in := &ec2.RunInstancesInput{
		ImageId:           aws.String(ami),
		InstanceType:      types.InstanceType(typ),
		MinCount:          aws.Int32(1),
		MaxCount:          aws.Int32(1),
		ClientToken:       aws.String(token),
		TagSpecifications: ec2TagSpecs(TagMap(attrs["tags"]), types.ResourceTypeInstance, types.ResourceTypeVolume),
	}
	if s, _ := attrs["subnet_id"].(string); s != "" {
		in.SubnetId = aws.String(s)
	}
	if groups := sgStrings(attrs["security_groups"]); len(groups) > 0 {
		in.SecurityGroupIds = instSorted(groups)
	}
	if s, _ := attrs["key_name"].(string); s != "" {
		in.KeyName = aws.String(s)
	}
	if s, _ := attrs["iam_instance_profile"].(string); s != "" {
		in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Name: aws.String(s)}
	}
	if s, _ := attrs["user_data"].(string); s != "" {
		in.UserData = aws.String(base64.StdEncoding.EncodeToString([]byte(s)))
	}
	if gb, ok := intValue(attrs["root_volume_gb"]); ok {
		dev, err := d.rootDevice(ctx, ami)
		if err != nil {
			return nil, err
		}
		in.BlockDeviceMappings = []types.BlockDeviceMapping{{
			DeviceName: aws.String(dev),
			Ebs:        &types.EbsBlockDevice{VolumeSize: aws.Int32(int32(gb)), DeleteOnTermination: aws.Bool(true)},
		}}
	}
	var launched *types.Instance
	owner := instTagFilters(TagMap(attrs["tags"]))
	err := awsapi.CreateOnce(ctx, 10, func(ctx context.Context) error {
		out, err := d.c.EC2.RunInstances(ctx, in, func(o *ec2.Options) { o.Retryer = awsapi.NoRetry(o.Retryer) })
		if err == nil && len(out.Instances) > 0 {
			launched = &out.Instances[0]
		}
		return err
	}, func(ctx context.Context) (bool, error) {
		// The launch may have happened though its answer was lost: it
		// carries the ownership tags and this client token.
		owned, err := ec2Instances(ctx, d.c.EC2, owner)
		if err != nil {
			return false, err
		}
		if prev, used := instByToken(owned, token); used && instAlive(prev) {
			launched = prev
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return nil, fmt.Errorf("run instance from %s: %w", ami, err)
	}
	if launched == nil {
		return nil, fmt.Errorf("run instance from %s: AWS answered without an instance", ami)
	}
	return launched, nil
}

// instTagFilters finds instances carrying the env and id ownership tags.
func instTagFilters(tags map[string]string) []types.Filter {
	return ec2OwnerFilters(tags[TagEnv], tags[TagID])
}

// rootDevice returns the AMI's root device name.
func (d *instanceDriver) rootDevice(ctx context.Context, ami string) (string, error) {
	out, err := d.c.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{ami}})
	if err != nil {
		return "", fmt.Errorf("read AMI %s: %w", ami, err)
	}
	if len(out.Images) == 0 {
		return "", fmt.Errorf("AMI %s does not exist or is not visible to this account", ami)
	}
	if dev := aws.ToString(out.Images[0].RootDeviceName); dev != "" {
		return dev, nil
	}
	return instDefaultRootDevice, nil
}

// Update changes the named attributes: tags, security groups and the
// instance profile first, the instance type (which stops the instance)
// last.
func (d *instanceDriver) Update(ctx context.Context, live *Live, t Target, changed []string) (*Live, error) {
	id := live.Handle
	want := map[string]bool{}
	for _, name := range changed {
		switch name {
		case "tags", "security_groups", "iam_instance_profile", "instance_type":
			want[name] = true
		default:
			return nil, fmt.Errorf("update instance %s: %s cannot change in place (it forces a replacement)", id, name)
		}
	}
	if want["tags"] {
		if err := ec2UpdateTags(ctx, d.c.EC2, id, live.Tags(), TagMap(t.Attrs["tags"])); err != nil {
			return nil, fmt.Errorf("update instance %s: %w", id, err)
		}
	}
	if want["security_groups"] {
		groups := instSorted(sgStrings(t.Attrs["security_groups"]))
		if _, err := d.c.EC2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id), Groups: groups}); err != nil {
			return nil, fmt.Errorf("update instance %s: set security groups %s: %w", id, strings.Join(groups, ", "), err)
		}
	}
	if want["iam_instance_profile"] {
		name, _ := t.Attrs["iam_instance_profile"].(string)
		if err := d.setProfile(ctx, id, name); err != nil {
			return nil, fmt.Errorf("update instance %s: %w", id, err)
		}
	}
	if want["instance_type"] {
		typ, _ := t.Attrs["instance_type"].(string)
		if err := d.setType(ctx, id, typ); err != nil {
			return nil, fmt.Errorf("update instance %s: %w", id, err)
		}
	}
	out, err := d.read(ctx, id, false)
	if err != nil {
		return nil, fmt.Errorf("update instance %s: read back: %w", id, err)
	}
	return out, nil
}

// setType changes the instance type, which AWS allows only on a stopped
// instance: a running instance is stopped, changed and started again; a
// stopped one is changed and left stopped.
func (d *instanceDriver) setType(ctx context.Context, id, typ string) error {
	in, err := d.describe(ctx, id, false)
	if err != nil {
		return err
	}
	if string(in.InstanceType) == typ {
		return nil
	}
	state := in.State.Name
	restart := state == types.InstanceStateNameRunning || state == types.InstanceStateNamePending
	if state == types.InstanceStateNamePending {
		if err := d.waitRunning(ctx, id); err != nil {
			return err
		}
	}
	if restart {
		if _, err := d.c.EC2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
			return fmt.Errorf("stop to change the instance type: %w", err)
		}
	}
	if restart || state == types.InstanceStateNameStopping {
		w := ec2.NewInstanceStoppedWaiter(d.c.EC2, func(o *ec2.InstanceStoppedWaiterOptions) {
			o.MinDelay, o.MaxDelay = instWaitMinDelay, instWaitMaxDelay
		})
		if err := w.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, instStopTimeout); err != nil {
			return fmt.Errorf("wait until stopped: %w%s", err, d.stateSuffix(ctx, id))
		}
	}
	_, err = d.c.EC2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{
		InstanceId:   aws.String(id),
		InstanceType: &types.AttributeValue{Value: aws.String(typ)},
	})
	if err != nil {
		err = fmt.Errorf("change instance type from %s to %s: %w", in.InstanceType, typ, err)
	}
	if restart {
		// Start again even when the change failed: the instance ran before.
		if _, serr := d.c.EC2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); serr != nil {
			return errors.Join(err, fmt.Errorf("start again: %w", serr))
		}
		if werr := d.waitRunning(ctx, id); werr != nil {
			return errors.Join(err, werr)
		}
	}
	return err
}

// setProfile associates, replaces or removes the instance profile.
func (d *instanceDriver) setProfile(ctx context.Context, id, name string) error {
	assocs, err := d.profileAssociations(ctx, []string{id})
	if err != nil {
		return fmt.Errorf("read instance profile: %w", err)
	}
	cur, has := assocs[id]
	switch {
	case !has && name == "":
		return nil
	case !has:
		_, err = d.c.EC2.AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{
			InstanceId: aws.String(id), IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String(name)},
		})
	case name == "":
		_, err = d.c.EC2.DisassociateIamInstanceProfile(ctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: cur.AssociationId})
	case instProfileName(cur) == name:
		return nil
	default:
		_, err = d.c.EC2.ReplaceIamInstanceProfileAssociation(ctx, &ec2.ReplaceIamInstanceProfileAssociationInput{
			AssociationId: cur.AssociationId, IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String(name)},
		})
	}
	if err != nil {
		if name == "" {
			return fmt.Errorf("detach instance profile: %w", err)
		}
		return fmt.Errorf("attach instance profile %s: %w", name, err)
	}
	return nil
}

// Delete terminates the instance and waits until it is terminated. An
// instance already gone is success.
func (d *instanceDriver) Delete(ctx context.Context, live *Live) error {
	id := live.Handle
	_, err := d.c.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	if awsapi.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("terminate instance %s: %w", id, err)
	}
	deadline := time.Now().Add(instTerminateTimeout)
	delay := instWaitMinDelay
	for {
		insts, err := ec2Instances(ctx, d.c.EC2, []types.Filter{ec2Filter("instance-id", id)})
		if err != nil {
			return fmt.Errorf("terminate instance %s: wait: %w", id, err)
		}
		if len(insts) == 0 || insts[0].State == nil || insts[0].State.Name == types.InstanceStateNameTerminated {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("terminate instance %s: still %s after %s", id, instState(&insts[0]), instTerminateTimeout)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("terminate instance %s: wait: %w", id, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(delay*2, instWaitMaxDelay)
	}
}

// waitRunning waits until the instance runs. Right after launch AWS may
// not know the id yet (InvalidInstanceID.NotFound): the waiter retries that.
func (d *instanceDriver) waitRunning(ctx context.Context, id string) error {
	w := ec2.NewInstanceRunningWaiter(d.c.EC2, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = instWaitMinDelay, instWaitMaxDelay
	})
	err := awsapi.EC2Create.Retry(ctx, func(ctx context.Context) error {
		return w.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, instRunTimeout)
	})
	if err != nil {
		return fmt.Errorf("wait until running: %w%s", err, d.stateSuffix(ctx, id))
	}
	return nil
}

// stateSuffix describes the instance's state for an error message.
func (d *instanceDriver) stateSuffix(ctx context.Context, id string) string {
	in, err := d.describe(ctx, id, false)
	if err != nil {
		return ""
	}
	s := " (state " + instState(in)
	if in.StateReason != nil && aws.ToString(in.StateReason.Message) != "" {
		s += ": " + aws.ToString(in.StateReason.Message)
	}
	return s + ")"
}

// describe reads one instance by id. fresh: the instance was just
// launched, so a not-found answer is retried for a while.
func (d *instanceDriver) describe(ctx context.Context, id string, fresh bool) (*types.Instance, error) {
	var in *types.Instance
	call := func(ctx context.Context) error {
		out, err := d.c.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err != nil {
			return err
		}
		for _, r := range out.Reservations {
			for i := range r.Instances {
				in = &r.Instances[i]
			}
		}
		if in == nil {
			return fmt.Errorf("instance %s: DescribeInstances returned nothing", id)
		}
		return nil
	}
	if fresh {
		return in, awsapi.EC2Create.Retry(ctx, call)
	}
	return in, call(ctx)
}

func (d *instanceDriver) read(ctx context.Context, id string, fresh bool) (*Live, error) {
	in, err := d.describe(ctx, id, fresh)
	if err != nil {
		return nil, err
	}
	lives, err := d.observe(ctx, []types.Instance{*in})
	if err != nil {
		return nil, err
	}
	return lives[0], nil
}

// observe reads what DescribeInstances does not carry (root volume size,
// instance profile, user data) and builds one Live per instance.
func (d *instanceDriver) observe(ctx context.Context, insts []types.Instance) ([]*Live, error) {
	if len(insts) == 0 {
		return nil, nil
	}
	var ids, vols []string
	for i := range insts {
		ids = append(ids, aws.ToString(insts[i].InstanceId))
		if v := instRootVolume(&insts[i]); v != "" {
			vols = append(vols, v)
		}
	}
	sizes := map[string]int64{}
	if len(vols) > 0 {
		p := ec2.NewDescribeVolumesPaginator(d.c.EC2, &ec2.DescribeVolumesInput{Filters: []types.Filter{ec2Filter("volume-id", vols...)}})
		for page := 0; p.HasMorePages() && page < ec2MaxPages; page++ {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("read root volumes: %w", err)
			}
			for _, v := range out.Volumes {
				sizes[aws.ToString(v.VolumeId)] = int64(aws.ToInt32(v.Size))
			}
		}
	}
	profiles, err := d.profileAssociations(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("read instance profiles: %w", err)
	}
	out := make([]*Live, 0, len(insts))
	for i := range insts {
		in := &insts[i]
		id := aws.ToString(in.InstanceId)
		userData, err := d.userData(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("read user data of %s: %w", id, err)
		}
		var groups []string
		for _, g := range in.SecurityGroups {
			groups = append(groups, aws.ToString(g.GroupId))
		}
		profile := ""
		if a, ok := profiles[id]; ok {
			profile = instProfileName(a)
		}
		attrs := Attrs{
			"ami":                  aws.ToString(in.ImageId),
			"instance_type":        string(in.InstanceType),
			"subnet_id":            aws.ToString(in.SubnetId),
			"security_groups":      instSorted(groups),
			"key_name":             aws.ToString(in.KeyName),
			"iam_instance_profile": profile,
			"user_data":            userData,
			"tags":                 ec2TagMap(in.Tags),
		}
		if size, ok := sizes[instRootVolume(in)]; ok {
			attrs["root_volume_gb"] = size
		}
		az := ""
		if in.Placement != nil {
			az = aws.ToString(in.Placement.AvailabilityZone)
		}
		out = append(out, &Live{
			Handle: id,
			Attrs:  attrs,
			Exports: map[string]string{
				"id":                id,
				"private_ip":        aws.ToString(in.PrivateIpAddress),
				"public_ip":         aws.ToString(in.PublicIpAddress),
				"availability_zone": az,
			},
		})
	}
	return out, nil
}

// userData reads and decodes the instance's user data ("" when none).
func (d *instanceDriver) userData(ctx context.Context, id string) (string, error) {
	var out *ec2.DescribeInstanceAttributeOutput
	err := awsapi.EC2Create.Retry(ctx, func(ctx context.Context) error {
		var err error
		out, err = d.c.EC2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{
			InstanceId: aws.String(id), Attribute: types.InstanceAttributeNameUserData,
		})
		return err
	})
	if err != nil {
		return "", err
	}
	if out.UserData == nil || aws.ToString(out.UserData.Value) == "" {
		return "", nil
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.UserData.Value))
	if err != nil {
		return "", fmt.Errorf("decode base64: %w", err)
	}
	return string(raw), nil
}

// profileAssociations returns the current instance profile association of
// each of the instances that has one.
func (d *instanceDriver) profileAssociations(ctx context.Context, ids []string) (map[string]types.IamInstanceProfileAssociation, error) {
	out := map[string]types.IamInstanceProfileAssociation{}
	p := ec2.NewDescribeIamInstanceProfileAssociationsPaginator(d.c.EC2, &ec2.DescribeIamInstanceProfileAssociationsInput{
		Filters: []types.Filter{ec2Filter("instance-id", ids...), ec2Filter("state", "associating", "associated")},
	})
	for page := 0; p.HasMorePages() && page < ec2MaxPages; page++ {
		o, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range o.IamInstanceProfileAssociations {
			out[aws.ToString(a.InstanceId)] = a
		}
	}
	return out, nil
}

// instProfileName is the name in an instance profile ARN
// (arn:aws:iam::123456789012:instance-profile/path/name).
func instProfileName(a types.IamInstanceProfileAssociation) string {
	if a.IamInstanceProfile == nil {
		return ""
	}
	arn := aws.ToString(a.IamInstanceProfile.Arn)
	return arn[strings.LastIndex(arn, "/")+1:]
}

// instRootVolume returns the EBS volume id of the instance's root device.
func instRootVolume(in *types.Instance) string {
	root := aws.ToString(in.RootDeviceName)
	for _, m := range in.BlockDeviceMappings {
		if aws.ToString(m.DeviceName) == root && m.Ebs != nil {
			return aws.ToString(m.Ebs.VolumeId)
		}
	}
	return ""
}

// instClientToken derives the RunInstances client token from the env, the
// id and the desired attributes (at most 64 ASCII characters; instTokenTries
// suffixes are added to it).
func instClientToken(env, id string, attrs Attrs) string {
	canon := make(map[string]any, len(attrs))
	for k, v := range attrs {
		if list, ok := v.([]string); ok {
			v = instSorted(list)
		}
		canon[k] = v
	}
	data, err := json.Marshal(map[string]any{"env": env, "id": id, "attrs": canon})
	if err != nil {
		data = fmt.Appendf(nil, "%s|%s|%v", env, id, canon)
	}
	sum := sha256.Sum256(data)
	return "envctl-" + hex.EncodeToString(sum[:16])
}

// instByToken returns an instance launched with the token, preferring one
// that is not terminated.
func instByToken(insts []types.Instance, token string) (*types.Instance, bool) {
	var found *types.Instance
	for i := range insts {
		if aws.ToString(insts[i].ClientToken) != token {
			continue
		}
		if instAlive(&insts[i]) {
			return &insts[i], true
		}
		found = &insts[i]
	}
	return found, found != nil
}

// instAlive: the instance is not terminated nor on its way there.
func instAlive(in *types.Instance) bool {
	if in == nil || in.State == nil {
		return false
	}
	return in.State.Name != types.InstanceStateNameTerminated && in.State.Name != types.InstanceStateNameShuttingDown
}

func instState(in *types.Instance) string {
	if in == nil || in.State == nil {
		return "unknown"
	}
	return string(in.State.Name)
}

func instSorted(list []string) []string {
	out := slices.Clone(list)
	sort.Strings(out)
	return slices.Compact(out)
}

// Validation.

var (
	instAMIID     = regexp.MustCompile(`^ami-[0-9a-f]{8,17}$`)
	instSSMName   = regexp.MustCompile(`^[a-zA-Z0-9_.\-/:]+$`)
	instTypeRe    = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9-]+$`)
	instSubnetID  = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	instGroupID   = regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`)
	instProfileRe = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
)

func instCheckAMI(v any) error {
	s, _ := v.(string)
	if name, ok := strings.CutPrefix(s, instSSMPrefix); ok {
		if !instSSMName.MatchString(name) || len(name) > 2048 {
			return fmt.Errorf("expected ssm: followed by an SSM parameter name such as /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64, got %q", s)
		}
		return nil
	}
	if !instAMIID.MatchString(s) {
		return fmt.Errorf("expected an AMI id such as ami-0123456789abcdef0 or ssm:<parameter>, got %q", s)
	}
	return nil
}

func instCheckType(v any) error {
	s, _ := v.(string)
	if !instTypeRe.MatchString(s) {
		return fmt.Errorf("expected an instance type such as t3.micro, got %q", s)
	}
	return nil
}

func instCheckSubnet(v any) error {
	s, _ := v.(string)
	if !instSubnetID.MatchString(s) {
		return fmt.Errorf("expected a subnet id such as subnet-0123456789abcdef0, got %q", s)
	}
	return nil
}

func instCheckGroups(v any) error {
	list := sgStrings(v)
	if len(list) == 0 {
		return errors.New("expected at least one security group id (an instance always has one); leave security_groups out for the VPC's default group")
	}
	for _, g := range list {
		if !instGroupID.MatchString(g) {
			return fmt.Errorf("expected security group ids such as sg-0123456789abcdef0 (or ${group.id}), got %q", g)
		}
	}
	return nil
}

func instCheckKeyName(v any) error {
	s, _ := v.(string)
	if s == "" || len(s) > 255 {
		return fmt.Errorf("expected a key pair name of 1 to 255 characters, got %q", s)
	}
	return nil
}

func instCheckProfile(v any) error {
	s, _ := v.(string)
	if s != "" && !instProfileRe.MatchString(s) {
		return fmt.Errorf("expected an instance profile name (not an ARN): up to 128 letters, digits and +=,.@_-, got %q", s)
	}
	return nil
}

func instCheckRootSize(v any) error {
	n, ok := intValue(v)
	if !ok || n < 1 || n > 16384 {
		return fmt.Errorf("expected a size in GiB from 1 to 16384, got %v", v)
	}
	return nil
}

func instCheckUserData(v any) error {
	s, _ := v.(string)
	if len(s) > instMaxUserData {
		return fmt.Errorf("user data is %d bytes; AWS accepts at most %d", len(s), instMaxUserData)
	}
	return nil
}
