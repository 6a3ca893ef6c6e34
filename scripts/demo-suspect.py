"""Launches a suspect instance for the demo in a member account of the local emulator and prints
its id: a VPC, a subnet, a web security group, an application role with its instance profile,
and an instance with two network interfaces. Uses boto3 from the tools virtualenv.

    demo-suspect.py ENDPOINT ACCOUNT REGION
"""

import json
import sys

import boto3


def main() -> None:
    endpoint, account, region = sys.argv[1:4]
    base = dict(endpoint_url=endpoint, region_name=region,
                aws_access_key_id="testing", aws_secret_access_key="testing")
    creds = boto3.client("sts", **base).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
        RoleSessionName="irf-demo")["Credentials"]
    conf = dict(endpoint_url=endpoint, region_name=region,
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"])
    ec2 = boto3.client("ec2", **conf)
    iam = boto3.client("iam", **conf)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
             "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName="demo-web", AssumeRolePolicyDocument=json.dumps(trust))
    profile = iam.create_instance_profile(InstanceProfileName="demo-web")["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName="demo-web", RoleName="demo-web")
    vpc = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.50.1.0/24")["Subnet"]["SubnetId"]
    web = ec2.create_security_group(GroupName="demo-web", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    image = ec2.register_image(Name="demo-base", RootDeviceName="/dev/xvda")["ImageId"]
    # A 1 GiB root volume: the case walk images it in full (its blocks come from the guest's
    # root file system, see irf-lab's FileBlocks).
    instance = ec2.run_instances(ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                                 BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {
                                     "VolumeSize": 1, "DeleteOnTermination": True}}],
                                 NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet,
                                                     "Groups": [web]}])["Instances"][0]["InstanceId"]
    # The emulator records no profile association for RunInstances; associate as AWS would have.
    ec2.associate_iam_instance_profile(InstanceId=instance,
                                       IamInstanceProfile={"Arn": profile["Arn"]})
    eni = ec2.create_network_interface(SubnetId=subnet, Groups=[web])["NetworkInterface"]
    ec2.attach_network_interface(InstanceId=instance, NetworkInterfaceId=eni["NetworkInterfaceId"],
                                 DeviceIndex=1)
    print(instance)


if __name__ == "__main__":
    main()
